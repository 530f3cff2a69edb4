package org.rnn4j.examples.util;

import java.awt.Color;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.SeriesMarkers;

/** Line charts to PNG with XChart (headless). */
public final class LinePlot {
    /** One curve: a legend label, a colour and y values at the shared x values. */
    public record Series(String label, Color color, double[] y) {
    }

    private LinePlot() {
    }

    /** Writes a 900x420 chart of {@code series} over {@code x}; markers only when there are few points. */
    public static void write(Path png, String title, String xLabel, double[] x, List<Series> series) throws IOException {
        System.setProperty("java.awt.headless", "true");
        XYChart chart = new XYChartBuilder().width(900).height(420).title(title).xAxisTitle(xLabel).build();
        chart.getStyler().setChartBackgroundColor(Color.WHITE);
        chart.getStyler().setLegendPosition(org.knowm.xchart.style.Styler.LegendPosition.InsideNE);
        for (Series s : series) {
            XYSeries line = chart.addSeries(s.label(), x, s.y());
            line.setLineColor(s.color());
            line.setMarkerColor(s.color());
            line.setMarker(x.length <= 60 ? SeriesMarkers.CIRCLE : SeriesMarkers.NONE);
        }
        Path parent = png.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        ImageIO.write(BitmapEncoder.getBufferedImage(chart), "png", png.toFile());
    }
}
