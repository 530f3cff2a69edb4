package org.rnn4j;

/**
 * Seeded random numbers, generated on the host so every backend and device sees the same values
 * for the same seed. SplitMix64 stream; floats from the top 24 bits; normals by Box-Muller.
 * Not thread-safe: give each thread its own generator.
 */
public final class Generator {
    private static final Generator DEFAULT = new Generator(0x5eedL);

    private long state;
    private double spareNormal = Double.NaN;

    /** A generator whose stream starts from {@code seed}; equal seeds give equal streams. */
    public Generator(long seed) {
        manualSeed(seed);
    }

    /** The process-wide generator used when none is given (like torch's default generator). */
    public static Generator defaultGenerator() {
        return DEFAULT;
    }

    /** Reseeds the default generator (torch.manual_seed). */
    public static void seed(long seed) {
        DEFAULT.manualSeed(seed);
    }

    /**
     * Restarts the stream from {@code seed} (and drops a cached normal); returns this ({@code Generator.manual_seed}).
     */
    public synchronized Generator manualSeed(long seed) {
        this.state = seed;
        this.spareNormal = Double.NaN;
        return this;
    }

    /** The next 64 random bits (one SplitMix64 step). */
    public synchronized long nextLong() {
        long z = (state += 0x9E3779B97F4A7C15L);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** Uniform in [0, 1). */
    public float nextFloat() {
        return (nextLong() >>> 40) * 0x1.0p-24f;
    }

    /** Uniform integer in [0, bound). */
    public int nextInt(int bound) {
        if (bound <= 0) {
            throw new IllegalArgumentException("bound must be > 0, got " + bound);
        }
        return (int) Math.floorMod(nextLong() >>> 1, (long) bound);
    }

    /**
     * A standard normal value (Box-Muller: each pair of uniforms gives two values, the second cached for the next call).
     */
    public synchronized float nextGaussian() {
        if (!Double.isNaN(spareNormal)) {
            double s = spareNormal;
            spareNormal = Double.NaN;
            return (float) s;
        }
        double u1;
        do {
            u1 = (nextLong() >>> 11) * 0x1.0p-53;
        } while (u1 <= 0);
        double u2 = (nextLong() >>> 11) * 0x1.0p-53;
        double r = Math.sqrt(-2 * Math.log(u1));
        spareNormal = r * Math.sin(2 * Math.PI * u2);
        return (float) (r * Math.cos(2 * Math.PI * u2));
    }

    /** Fills with uniform values in [lo, hi). */
    public void uniform(float[] out, float lo, float hi) {
        for (int i = 0; i < out.length; i++) {
            out[i] = lo + (hi - lo) * nextFloat();
        }
    }

    /** Fills {@code out} with normal values of the given mean and standard deviation. */
    public void normal(float[] out, float mean, float std) {
        for (int i = 0; i < out.length; i++) {
            out[i] = mean + std * nextGaussian();
        }
    }
}
