package org.rnn4j.io;

/**
 * Element types that rnn4j can read from safetensors and PyTorch files. Floating-point types are
 * converted to float32 {@link org.rnn4j.Tensor}s on load (exactly for F16 and BF16, rounded to
 * nearest for F64, as {@code tensor.float()} does); integer and boolean types load as
 * {@link IntTensor}s, exactly.
 */
public enum DType {
    /** 64-bit float ({@code torch.float64}); loads as float32, rounded to nearest. */
    F64("F64", "DoubleStorage", 8, true),
    /** 32-bit float ({@code torch.float32}). */
    F32("F32", "FloatStorage", 4, true),
    /** 16-bit IEEE half float ({@code torch.float16}); loads as float32 exactly. */
    F16("F16", "HalfStorage", 2, true),
    /** 16-bit brain float ({@code torch.bfloat16}); loads as float32 exactly. */
    BF16("BF16", "BFloat16Storage", 2, true),
    /** 64-bit signed integer ({@code torch.int64}). */
    I64("I64", "LongStorage", 8, false),
    /** 32-bit signed integer ({@code torch.int32}). */
    I32("I32", "IntStorage", 4, false),
    /** 16-bit signed integer ({@code torch.int16}). */
    I16("I16", "ShortStorage", 2, false),
    /** 8-bit signed integer ({@code torch.int8}). */
    I8("I8", "CharStorage", 1, false),
    /** 8-bit unsigned integer ({@code torch.uint8}). */
    U8("U8", "ByteStorage", 1, false),
    /** Boolean, one byte per element, values 0 and 1 ({@code torch.bool}). */
    BOOL("BOOL", "BoolStorage", 1, false);

    private final String safetensorsName;
    private final String torchStorage;
    private final int bytes;
    private final boolean floatingPoint;

    DType(String safetensorsName, String torchStorage, int bytes, boolean floatingPoint) {
        this.safetensorsName = safetensorsName;
        this.torchStorage = torchStorage;
        this.bytes = bytes;
        this.floatingPoint = floatingPoint;
    }

    /** The dtype's name in a safetensors header ({@code "F16"}, {@code "I64"}, ...). */
    public String safetensorsName() {
        return safetensorsName;
    }

    /** The storage class PyTorch pickles for it ({@code torch.HalfStorage}, ...). */
    public String torchStorage() {
        return torchStorage;
    }

    /** Bytes per element. */
    public int bytes() {
        return bytes;
    }

    /** True for F64, F32, F16, BF16 (loaded as float32 tensors). */
    public boolean isFloatingPoint() {
        return floatingPoint;
    }

    /** The dtype of a safetensors name, or null if rnn4j cannot read it. */
    static DType ofSafetensors(String name) {
        for (DType d : values()) {
            if (d.safetensorsName.equals(name)) {
                return d;
            }
        }
        return null;
    }

    /** The dtype of a {@code torch.<Name>Storage} class name, or null. */
    static DType ofTorchStorage(String name) {
        for (DType d : values()) {
            if (d.torchStorage.equals(name)) {
                return d;
            }
        }
        return null;
    }
}
