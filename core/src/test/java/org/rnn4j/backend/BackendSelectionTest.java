package org.rnn4j.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.rnn4j.Device;

class BackendSelectionTest {

    /** A CPU backend that, like the native one on an unsupported platform, fails to load. */
    private static Backend broken(String reason) {
        return (Backend) java.lang.reflect.Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class},
                (proxy, m, args) -> switch (m.getName()) {
                    case "name" -> "native";
                    case "device" -> Device.CPU;
                    case "priority" -> 100;
                    case "isAvailable" -> false;
                    case "unavailableReason" -> reason;
                    case "description" -> "native (unavailable: " + reason + ")";
                    case "toString" -> "broken native";
                    default -> throw new UnsupportedOperationException(m.getName());
                });
    }

    @Test
    void withoutNativeOnTheClassPathTheReportSaysSo() {
        // core's tests have no native backend on the class path: the default is the reference
        String report = Backends.selectionReport(Device.CPU);
        assertSame(ReferenceBackend.INSTANCE, Backends.cpu());
        assertTrue(report.startsWith(ReferenceBackend.INSTANCE.description()), report);
        assertTrue(report.contains("no native backend on the class path"), report);
        assertTrue(report.contains("rnn4j-native"), report);
    }

    @Test
    void aNativeBackendThatFailedToLoadIsNamedWithItsReason() {
        String reason = "java.lang.UnsatisfiedLinkError: no jnirnn4j in java.library.path";
        Backends.Selection s = Backends.select(Device.CPU, List.of(broken(reason), ReferenceBackend.INSTANCE), null);
        assertSame(ReferenceBackend.INSTANCE, s.backend());
        assertEquals(ReferenceBackend.INSTANCE.description() + " (native unavailable: " + reason + ")", s.report());
        assertEquals(System.Logger.Level.WARNING, s.level(), "a fallback to the slow backend is a warning");
    }

    @Test
    void theBestAvailableBackendIsChosenQuietly() {
        Backends.Selection s = Backends.select(Device.CPU, List.of(ReferenceBackend.INSTANCE, new FakeDeviceBackend()), null);
        assertSame(ReferenceBackend.INSTANCE, s.backend());
        Backends.Selection fake = Backends.select(FakeDeviceBackend.DEVICE,
                List.of(ReferenceBackend.INSTANCE, new FakeDeviceBackend()), null);
        assertEquals("fake-device", fake.report());
        assertEquals(System.Logger.Level.DEBUG, fake.level());
    }

    @Test
    void aForcedBackendSaysItWasForced() {
        Backends.Selection s = Backends.select(Device.CPU, List.of(ReferenceBackend.INSTANCE), "-Drnn4j.backend=Reference");
        assertSame(ReferenceBackend.INSTANCE, s.backend());
        assertTrue(s.report().endsWith("(forced by -Drnn4j.backend=Reference)"), s.report());
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> Backends.select(Device.CPU, List.of(broken("no library"), ReferenceBackend.INSTANCE), "RNN4J_BACKEND=native"));
        assertTrue(e.getMessage().contains("no library"), e.getMessage());
    }
}
