package org.rnn4j.examples.util;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Path2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;

/** A minimal line chart drawn with java.awt into a PNG (headless), so the examples need no plotting library. */
public final class LinePlot {
    /** One curve: a legend label, a colour and y values at the shared x values. */
    public record Series(String label, Color color, double[] y) {
    }

    private static final int W = 900;
    private static final int H = 420;
    private static final int LEFT = 60;
    private static final int RIGHT = 20;
    private static final int TOP = 50;
    private static final int BOTTOM = 40;

    private LinePlot() {
    }

    public static void write(Path png, String title, String xLabel, double[] x, List<Series> series) throws IOException {
        System.setProperty("java.awt.headless", "true");
        double xMin = x[0];
        double xMax = x[x.length - 1];
        double yMin = Double.POSITIVE_INFINITY;
        double yMax = Double.NEGATIVE_INFINITY;
        for (Series s : series) {
            for (double v : s.y()) {
                yMin = Math.min(yMin, v);
                yMax = Math.max(yMax, v);
            }
        }
        double pad = 0.05 * (yMax - yMin + 1e-9);
        yMin -= pad;
        yMax += pad;
        BufferedImage img = new BufferedImage(W, H, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, W, H);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        g.setColor(Color.LIGHT_GRAY);
        for (int i = 0; i <= 4; i++) {
            double yv = yMin + (yMax - yMin) * i / 4;
            int py = py(yv, yMin, yMax);
            g.drawLine(LEFT, py, W - RIGHT, py);
            g.setColor(Color.DARK_GRAY);
            g.drawString(String.format("%.2f", yv), 10, py + 4);
            g.setColor(Color.LIGHT_GRAY);
        }
        g.setColor(Color.BLACK);
        g.drawRect(LEFT, TOP, W - LEFT - RIGHT, H - TOP - BOTTOM);
        g.drawString(title, LEFT, 20);
        g.drawString(String.format("%s: %.1f .. %.1f", xLabel, xMin, xMax), LEFT, H - 12);
        g.setStroke(new BasicStroke(2f));
        int legendX = LEFT + 420;
        for (int k = 0; k < series.size(); k++) {
            Series s = series.get(k);
            Path2D.Double path = new Path2D.Double();
            for (int i = 0; i < x.length; i++) {
                double px = LEFT + (x[i] - xMin) / (xMax - xMin) * (W - LEFT - RIGHT);
                if (i == 0) {
                    path.moveTo(px, py(s.y()[i], yMin, yMax));
                } else {
                    path.lineTo(px, py(s.y()[i], yMin, yMax));
                }
            }
            g.setColor(s.color());
            g.draw(path);
            // legend in one row above the plot area, so it never hides a curve
            int lx = legendX + 140 * k;
            g.drawLine(lx, TOP - 14, lx + 20, TOP - 14);
            g.drawString(s.label(), lx + 26, TOP - 10);
        }
        g.dispose();
        ImageIO.write(img, "png", png.toFile());
    }

    private static int py(double y, double yMin, double yMax) {
        return (int) Math.round(TOP + (yMax - y) / (yMax - yMin) * (H - TOP - BOTTOM));
    }
}
