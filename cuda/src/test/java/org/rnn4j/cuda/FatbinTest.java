package org.rnn4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Runs without a GPU: the fatbin resource nvcc built holds SASS for every architecture the pom
 * asks for plus compute_90 PTX, and every kernel name CudaBackend launches is a function symbol
 * in each of them (cuobjdump is not installed here, so the fatbin's entries and the cubins' ELF
 * symbol tables are read directly; the build passes --no-compress so they are readable).
 */
class FatbinTest {
    static final Set<Integer> SASS = Set.of(75, 80, 86, 89, 90);
    static final Set<Integer> PTX = Set.of(90);

    record Entry(int kind, int arch, Set<String> functions) {
    }

    static List<Entry> parse(byte[] image) {
        ByteBuffer b = ByteBuffer.wrap(image).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(0xBA55ED50, b.getInt(0), "fatbin magic");
        int headerSize = b.getShort(6) & 0xffff;
        long fatSize = b.getLong(8);
        List<Entry> out = new ArrayList<>();
        long o = headerSize;
        while (o < headerSize + fatSize) {
            int at = (int) o;
            int kind = b.getShort(at) & 0xffff;
            int entryHeader = b.getInt(at + 4);
            long size = b.getLong(at + 8);
            int compressed = b.getInt(at + 16);
            int arch = b.getInt(at + 28);
            assertEquals(0, compressed, "entry for sm_" + arch + " is compressed; the build must pass --no-compress");
            int payload = at + entryHeader;
            Set<String> fns = kind == 2 ? elfFunctions(b, payload) : ptxEntries(image, payload, (int) size);
            out.add(new Entry(kind, arch, fns));
            o += entryHeader + size;
        }
        return out;
    }

    /** STT_FUNC symbols of an ELF64 little-endian object starting at {@code base}. */
    static Set<String> elfFunctions(ByteBuffer b, int base) {
        assertEquals(0x464c457f, b.getInt(base), "ELF magic");
        long shoff = b.getLong(base + 0x28);
        int shentsize = b.getShort(base + 0x3a) & 0xffff;
        int shnum = b.getShort(base + 0x3c) & 0xffff;
        Set<String> fns = new TreeSet<>();
        for (int i = 0; i < shnum; i++) {
            int sh = (int) (base + shoff + (long) i * shentsize);
            if (b.getInt(sh + 4) != 2) { // SHT_SYMTAB
                continue;
            }
            long symOff = b.getLong(sh + 0x18);
            long symSize = b.getLong(sh + 0x20);
            int link = b.getInt(sh + 0x28);
            long entSize = b.getLong(sh + 0x38);
            int strSh = (int) (base + shoff + (long) link * shentsize);
            long strOff = b.getLong(strSh + 0x18);
            for (long s = 0; s < symSize; s += entSize) {
                int sym = (int) (base + symOff + s);
                int nameOff = b.getInt(sym);
                int info = b.get(sym + 4) & 0xff;
                if ((info & 0xf) == 2) { // STT_FUNC
                    fns.add(cString(b, (int) (base + strOff + nameOff)));
                }
            }
        }
        return fns;
    }

    static String cString(ByteBuffer b, int at) {
        int end = at;
        while (b.get(end) != 0) {
            end++;
        }
        byte[] s = new byte[end - at];
        b.get(at, s);
        return new String(s, StandardCharsets.US_ASCII);
    }

    static Set<String> ptxEntries(byte[] image, int at, int size) {
        String ptx = new String(image, at, size, StandardCharsets.US_ASCII);
        Matcher m = Pattern.compile("\\.entry\\s+([A-Za-z_][A-Za-z0-9_$]*)").matcher(ptx);
        Set<String> fns = new TreeSet<>();
        while (m.find()) {
            fns.add(m.group(1));
        }
        return fns;
    }

    @Test
    void everyArchitectureHoldsEveryKernelTheBackendLaunches() {
        List<Entry> entries = parse(Cuda.fatbin());
        TreeMap<Integer, Set<String>> sass = new TreeMap<>();
        TreeMap<Integer, Set<String>> ptx = new TreeMap<>();
        for (Entry e : entries) {
            (e.kind() == 2 ? sass : ptx).put(e.arch(), e.functions());
        }
        assertEquals(SASS, sass.keySet(), "SASS architectures in the fatbin");
        assertEquals(PTX, ptx.keySet(), "PTX architectures in the fatbin");
        for (var m : List.of(sass, ptx)) {
            for (var e : m.entrySet()) {
                for (Kernel k : Kernel.values()) {
                    assertTrue(e.getValue().contains(k.symbol), "kernel " + k.symbol + " missing for arch " + e.getKey()
                            + "; has " + e.getValue());
                }
            }
        }
    }

    @Test
    void noKernelInTheModuleIsUnknownToTheBackend() {
        Set<String> launched = new TreeSet<>();
        for (Kernel k : Kernel.values()) {
            launched.add(k.symbol);
        }
        for (Entry e : parse(Cuda.fatbin())) {
            Set<String> extra = new TreeSet<>();
            for (String f : e.functions()) {
                if (f.startsWith("rnn4j_") && !launched.contains(f)) {
                    extra.add(f);
                }
            }
            assertTrue(extra.isEmpty(), "kernels in the fatbin that Kernel does not list (dead code?): " + extra);
        }
    }
}
