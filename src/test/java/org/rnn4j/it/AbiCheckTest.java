package org.rnn4j.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.rnn4j.backend.Abi;
import org.rnn4j.backend.Backends;
import org.rnn4j.nativecpu.NativeKernels;

/**
 * The kernel ABI exists once per language (the Java enums, abi.h's X-macro lists) and the two
 * are compared when the native library loads: this build's library agrees with these classes,
 * and a library that disagrees on any code or slot is refused with a message naming it.
 */
class AbiCheckTest {

    @Test
    void theLibraryAgreesWithTheJavaLists() {
        Backends.byName("native"); // loads the library (and would have refused a mismatch)
        assertEquals(Abi.descriptor(), NativeKernels.abi());
        assertTrue(Abi.descriptor().contains("rnn_slot:X=0,H0=1,"), Abi.descriptor());
        assertTrue(Abi.descriptor().contains("optim:SGD=0,ADAM=1,ADAMW=2;"), Abi.descriptor());
    }

    @Test
    void aMismatchFailsWithTheFirstDifference() {
        String swapped = Abi.descriptor().replace("W_IH=3,W_HH=4", "W_IH=4,W_HH=3");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Abi.check("libtest", swapped));
        assertTrue(e.getMessage().contains("libtest") && e.getMessage().contains("W_IH=3") && e.getMessage().contains("W_IH=4"),
                e.getMessage());
        String fewerOps = Abi.descriptor().replace(",RDIV=13", "");
        e = assertThrows(IllegalStateException.class, () -> Abi.check("libtest", fewerOps));
        assertTrue(e.getMessage().contains("binary:"), e.getMessage());
        assertThrows(IllegalStateException.class, () -> Abi.check("libtest", null));
        assertThrows(IllegalStateException.class, () -> Abi.check("libtest", "abi:0;"));
    }
}
