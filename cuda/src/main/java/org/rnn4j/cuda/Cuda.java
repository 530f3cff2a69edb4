package org.rnn4j.cuda;

import static org.bytedeco.cuda.global.cublas.CUBLAS_DEFAULT_MATH;
import static org.bytedeco.cuda.global.cublas.CUBLAS_OP_N;
import static org.bytedeco.cuda.global.cublas.CUBLAS_OP_T;
import static org.bytedeco.cuda.global.cublas.CUBLAS_STATUS_SUCCESS;
import static org.bytedeco.cuda.global.cublas.cublasCreate_v2;
import static org.bytedeco.cuda.global.cublas.cublasSetMathMode;
import static org.bytedeco.cuda.global.cublas.cublasSetStream_v2;
import static org.bytedeco.cuda.global.cublas.cublasSgemmStridedBatched;
import static org.bytedeco.cuda.global.cudart.CUDA_ERROR_OUT_OF_MEMORY;
import static org.bytedeco.cuda.global.cudart.CUDA_SUCCESS;
import static org.bytedeco.cuda.global.cudart.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR;
import static org.bytedeco.cuda.global.cudart.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR;
import static org.bytedeco.cuda.global.cudart.CU_STREAM_NON_BLOCKING;
import static org.bytedeco.cuda.global.cudart.cuCtxSetCurrent;
import static org.bytedeco.cuda.global.cudart.cuDeviceGet;
import static org.bytedeco.cuda.global.cudart.cuDeviceGetAttribute;
import static org.bytedeco.cuda.global.cudart.cuDeviceGetCount;
import static org.bytedeco.cuda.global.cudart.cuDeviceGetName;
import static org.bytedeco.cuda.global.cudart.cuDevicePrimaryCtxRetain;
import static org.bytedeco.cuda.global.cudart.cuDeviceTotalMem;
import static org.bytedeco.cuda.global.cudart.cuDriverGetVersion;
import static org.bytedeco.cuda.global.cudart.cuGetErrorName;
import static org.bytedeco.cuda.global.cudart.cuInit;
import static org.bytedeco.cuda.global.cudart.cuLaunchKernel;
import static org.bytedeco.cuda.global.cudart.cuMemAlloc;
import static org.bytedeco.cuda.global.cudart.cuMemFree;
import static org.bytedeco.cuda.global.cudart.cuMemcpyDtoHAsync;
import static org.bytedeco.cuda.global.cudart.cuMemcpyHtoDAsync;
import static org.bytedeco.cuda.global.cudart.cuMemsetD32Async;
import static org.bytedeco.cuda.global.cudart.cuModuleGetFunction;
import static org.bytedeco.cuda.global.cudart.cuModuleLoadData;
import static org.bytedeco.cuda.global.cudart.cuStreamCreate;
import static org.bytedeco.cuda.global.cudart.cuStreamSynchronize;

import java.io.IOException;
import java.io.InputStream;
import java.util.EnumMap;
import org.bytedeco.cuda.cublas.cublasContext;
import org.bytedeco.cuda.cudart.CUctx_st;
import org.bytedeco.cuda.cudart.CUfunc_st;
import org.bytedeco.cuda.cudart.CUmod_st;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.SizeTPointer;

/**
 * The driver-API side of one device: its primary context, one stream, the kernel module loaded
 * from the fatbin resource, and a cuBLAS handle on the same stream. Only {@link CudaBackend}
 * uses it, under its lock; every method makes the context current first (driver contexts are
 * per thread, and Java calls come from any thread).
 *
 * <p>Never executed in the session that wrote it (no GPU there): it compiles against the
 * bytedeco presets, and its first run is cuda/device-check.sh's.
 */
final class Cuda implements CachingAllocator.DeviceMemory {
    static final int BLOCK = 256;
    private static final int MAX_BLOCKS = 65535 * 8;

    final int ordinal;
    final String name;
    final int ccMajor;
    final int ccMinor;
    final int driverVersion;
    final long totalBytes;
    private final CUctx_st ctx = new CUctx_st();
    private final CUstream_st stream = new CUstream_st();
    private final CUmod_st module = new CUmod_st();
    private final EnumMap<Kernel, CUfunc_st> functions = new EnumMap<>(Kernel.class);
    private final cublasContext blas = new cublasContext();
    private final Args args = new Args();
    private final BytePointer argValues = new BytePointer(args.values);
    private final LongPointer argPointers = new LongPointer(args.offsets.length);
    private final FloatPointer alpha = new FloatPointer(1);
    private final FloatPointer beta = new FloatPointer(1);

    /** Opens device {@code ordinal}; throws with a sentence saying what is missing. */
    Cuda(int ordinal) {
        this.ordinal = ordinal;
        check(cuInit(0), "cuInit");
        int[] v = new int[1];
        check(cuDriverGetVersion(v), "cuDriverGetVersion");
        driverVersion = v[0];
        if (driverVersion < 13000) {
            throw new IllegalStateException("the NVIDIA driver supports CUDA " + version(driverVersion) + "; the kernels"
                    + " (nvcc 13, PTX ISA 9.0) and the CUDA 13 presets need a driver for CUDA 13.0 or later (R580+)");
        }
        check(cuDeviceGetCount(v), "cuDeviceGetCount");
        if (ordinal >= v[0]) {
            throw new IllegalStateException("no CUDA device " + ordinal + ": the driver sees " + v[0] + " device(s)");
        }
        int[] dev = new int[1];
        check(cuDeviceGet(dev, ordinal), "cuDeviceGet");
        byte[] nm = new byte[256];
        check(cuDeviceGetName(nm, nm.length, dev[0]), "cuDeviceGetName");
        int len = 0;
        while (len < nm.length && nm[len] != 0) {
            len++;
        }
        name = new String(nm, 0, len, java.nio.charset.StandardCharsets.US_ASCII);
        check(cuDeviceGetAttribute(v, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, dev[0]), "cuDeviceGetAttribute");
        ccMajor = v[0];
        check(cuDeviceGetAttribute(v, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, dev[0]), "cuDeviceGetAttribute");
        ccMinor = v[0];
        if (ccMajor * 10 + ccMinor < 75) {
            throw new IllegalStateException(name + " has compute capability " + ccMajor + "." + ccMinor
                    + "; the kernels are built for 7.5 and later");
        }
        try (SizeTPointer total = new SizeTPointer(1)) {
            check(cuDeviceTotalMem(total, dev[0]), "cuDeviceTotalMem");
            totalBytes = total.get();
        }
        check(cuDevicePrimaryCtxRetain(ctx, dev[0]), "cuDevicePrimaryCtxRetain");
        check(cuCtxSetCurrent(ctx), "cuCtxSetCurrent");
        check(cuStreamCreate(stream, CU_STREAM_NON_BLOCKING), "cuStreamCreate");
        byte[] image = fatbin();
        try (BytePointer img = new BytePointer(image)) {
            check(cuModuleLoadData(module, img), "cuModuleLoadData (" + Kernel.RESOURCE + ")");
        }
        for (Kernel k : Kernel.values()) {
            CUfunc_st f = new CUfunc_st();
            check(cuModuleGetFunction(f, module, k.symbol), "cuModuleGetFunction(" + k.symbol + ")");
            functions.put(k, f);
        }
        int st = cublasCreate_v2(blas);
        if (st != CUBLAS_STATUS_SUCCESS) {
            throw new IllegalStateException("cublasCreate failed with status " + st);
        }
        checkBlas(cublasSetStream_v2(blas, stream), "cublasSetStream");
        // no TF32: results must match the float32 reference within 1e-5 relative
        checkBlas(cublasSetMathMode(blas, CUBLAS_DEFAULT_MATH), "cublasSetMathMode");
    }

    static String version(int v) {
        return v / 1000 + "." + (v % 1000) / 10;
    }

    static byte[] fatbin() {
        try (InputStream in = Cuda.class.getResourceAsStream(Kernel.RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("class path resource " + Kernel.RESOURCE + " is missing (the rnn4j-cuda jar"
                        + " was built without nvcc?)");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + Kernel.RESOURCE + ": " + e, e);
        }
    }

    static String errorName(int rc) {
        try {
            BytePointer s = new BytePointer();
            if (cuGetErrorName(rc, s) == CUDA_SUCCESS && s.address() != 0) {
                return s.getString() + " (" + rc + ")";
            }
        } catch (Throwable t) {
            // fall through
        }
        return "CUresult " + rc;
    }

    static void check(int rc, String what) {
        if (rc != CUDA_SUCCESS) {
            throw new IllegalStateException("cuda: " + what + " failed: " + errorName(rc));
        }
    }

    private static void checkBlas(int st, String what) {
        if (st != CUBLAS_STATUS_SUCCESS) {
            throw new IllegalStateException("cuda: " + what + " failed with cuBLAS status " + st);
        }
    }

    void makeCurrent() {
        check(cuCtxSetCurrent(ctx), "cuCtxSetCurrent");
    }

    // ---- memory ------------------------------------------------------------------------------

    @Override
    public long malloc(long bytes) {
        makeCurrent();
        long[] p = new long[1];
        int rc = cuMemAlloc(p, bytes);
        if (rc == CUDA_ERROR_OUT_OF_MEMORY) {
            return 0;
        }
        check(rc, "cuMemAlloc(" + bytes + ")");
        return p[0];
    }

    @Override
    public void free(long address) {
        makeCurrent();
        sync();
        check(cuMemFree(address), "cuMemFree");
    }

    void memsetZero(long address, long floats) {
        if (floats > 0) {
            check(cuMemsetD32Async(address, 0, floats, stream), "cuMemsetD32Async");
        }
    }

    void sync() {
        check(cuStreamSynchronize(stream), "cuStreamSynchronize");
    }

    /** Device to host, then waits: the values reach Java. */
    void download(long address, float[] dst, int off, int n) {
        if (n == 0) {
            return;
        }
        try (FloatPointer host = new FloatPointer(n)) {
            check(cuMemcpyDtoHAsync(host, address, 4L * n, stream), "cuMemcpyDtoHAsync");
            sync();
            host.get(dst, off, n);
        }
    }

    double downloadDouble(long address) {
        try (DoublePointer host = new DoublePointer(1)) {
            check(cuMemcpyDtoHAsync(host, address, 8L, stream), "cuMemcpyDtoHAsync");
            sync();
            return host.get();
        }
    }

    /** Host to device; waits, so the host staging buffer can be freed at once. */
    void upload(long address, float[] src, int off, int n) {
        if (n == 0) {
            return;
        }
        try (FloatPointer host = new FloatPointer(n)) {
            host.put(src, off, n);
            check(cuMemcpyHtoDAsync(address, host, 4L * n, stream), "cuMemcpyHtoDAsync");
            sync();
        }
    }

    void upload(long address, int[] src) {
        if (src.length == 0) {
            return;
        }
        try (IntPointer host = new IntPointer(src)) {
            check(cuMemcpyHtoDAsync(address, host, 4L * src.length, stream), "cuMemcpyHtoDAsync");
            sync();
        }
    }

    // ---- launches ----------------------------------------------------------------------------

    Args args() {
        return args.reset();
    }

    /** Launches {@code k} over {@code n} work items (1-D grid-stride loop) with the arguments packed in {@link #args()}. */
    void launch(Kernel k, long n) {
        if (n <= 0) {
            return;
        }
        int blocks = (int) Math.min((n + BLOCK - 1) / BLOCK, MAX_BLOCKS);
        long base = argValues.address();
        for (int i = 0; i < args.count; i++) {
            argPointers.put(i, base + args.offsets[i]);
        }
        check(cuLaunchKernel(functions.get(k), blocks, 1, 1, BLOCK, 1, 1, 0, stream, argPointers, (Pointer) null),
                "cuLaunchKernel(" + k.symbol + ")");
    }

    // ---- cuBLAS ------------------------------------------------------------------------------

    /** A FloatPointer at a device address, for cuBLAS (never dereferenced on the host, never freed). */
    private static final class DevicePtr extends FloatPointer {
        DevicePtr(long address) {
            super((Pointer) null);
            this.address = address;
        }
    }

    /**
     * Row-major C_b = alpha op(A_b) op(B_b) + beta C_b (addresses in bytes, ld and strides in
     * floats), as cuBLAS's column-major C^T = op(B)^T op(A)^T.
     */
    void gemm(boolean transA, boolean transB, int m, int n, int k, float a, long pa, int lda, long strideA,
              long pb, int ldb, long strideB, float b, long pc, int ldc, long strideC, int batch) {
        alpha.put(a);
        beta.put(b);
        checkBlas(cublasSgemmStridedBatched(blas, transB ? CUBLAS_OP_T : CUBLAS_OP_N, transA ? CUBLAS_OP_T : CUBLAS_OP_N,
                n, m, k, alpha, new DevicePtr(pb), ldb, strideB, new DevicePtr(pa), lda, strideA, beta, new DevicePtr(pc),
                ldc, strideC, batch), "cublasSgemmStridedBatched");
    }
}
