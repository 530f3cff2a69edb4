package org.rnn4j;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.library.dependencies.SliceAssignment;
import com.tngtech.archunit.library.dependencies.SliceIdentifier;
import org.junit.jupiter.api.Test;

/**
 * The house rules that keep the kernel boundary in one place: no package cycles in core, and no
 * backend class sees the user-facing tensor. The root package holds two layers: {@code Device}
 * and {@code Memory}, the value types every layer uses (slice "base"), and the tensor API on top
 * (slice "api"); every other package is its own slice.
 */
class ArchitectureTest {
    private static final JavaClasses CORE = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("org.rnn4j");

    /** Slice per package below org.rnn4j; the root split into base (Device, Memory) and api. */
    private static final SliceAssignment PACKAGES = new SliceAssignment() {
        @Override
        public SliceIdentifier getIdentifierOf(JavaClass c) {
            String pkg = c.getPackageName();
            if (!pkg.startsWith("org.rnn4j")) {
                return SliceIdentifier.ignore();
            }
            if (pkg.equals("org.rnn4j")) {
                String top = c.getName().contains("$") ? c.getName().substring(0, c.getName().indexOf('$')) : c.getName();
                boolean base = top.equals("org.rnn4j.Device") || top.equals("org.rnn4j.Memory");
                return SliceIdentifier.of(base ? "org.rnn4j (base: Device, Memory)" : "org.rnn4j (api)");
            }
            return SliceIdentifier.of(pkg);
        }

        @Override
        public String getDescription() {
            return "packages of core, the root split into base and api";
        }
    };

    @Test
    void corePackagesHaveNoCycles() {
        slices().assignedFrom(PACKAGES).should().beFreeOfCycles().check(CORE);
    }

    @Test
    void backendsNeverSeeATensor() {
        noClasses().that().resideInAPackage("org.rnn4j.backend..")
                .should().dependOnClassesThat(DescribedPredicate.describe("are org.rnn4j.Tensor",
                        (JavaClass c) -> c.getName().equals("org.rnn4j.Tensor")))
                .check(CORE);
    }

    @Test
    void theBaseLayerDependsOnNothingOfRnn4j() {
        noClasses().that(DescribedPredicate.describe("are Device or Memory", (JavaClass c) ->
                        c.getName().startsWith("org.rnn4j.Device") || c.getName().startsWith("org.rnn4j.Memory")))
                .should().dependOnClassesThat(DescribedPredicate.describe("are other rnn4j classes", (JavaClass c) -> {
                    String n = c.getBaseComponentType().getName();
                    return n.startsWith("org.rnn4j.") && !n.startsWith("org.rnn4j.Device") && !n.startsWith("org.rnn4j.Memory");
                }))
                .check(CORE);
    }
}
