package org.rnn4j.cuda;

import java.lang.ref.Cleaner;
import org.rnn4j.Device;
import org.rnn4j.backend.Storage;

/** Float32 device memory from the backend's {@link CachingAllocator}; freed back to the cache by the last holder or the Cleaner. */
final class CudaStorage extends Storage {
    private static final Cleaner CLEANER = Cleaner.create();

    final long address;
    final CudaBackend owner;
    private final Cleaner.Cleanable cleanable;

    CudaStorage(CudaBackend owner, Device device, long numel, long address, CachingAllocator allocator) {
        super(numel, device);
        this.owner = owner;
        this.address = address;
        this.cleanable = CLEANER.register(this, new Release(allocator, address, numel * 4L));
    }

    @Override
    protected void free() {
        cleanable.clean();
    }

    private static final class Release implements Runnable {
        private final CachingAllocator allocator;
        private final long address;
        private final long bytes;

        Release(CachingAllocator allocator, long address, long bytes) {
            this.allocator = allocator;
            this.address = address;
            this.bytes = bytes;
        }

        @Override
        public void run() {
            allocator.release(address, bytes);
        }
    }
}
