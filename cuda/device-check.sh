#!/usr/bin/env bash
# rnn4j CUDA device check. Two halves:
#
#   cuda/device-check.sh bundle OUT_DIR
#       On the build machine (Maven, network not needed once ~/.m2 is filled), after
#       `mvn -B -o -q verify -pl cuda -am -Dmaven.javadoc.skip=true` from the repository root:
#       copies the built jars, the cuda test classes and every runtime/test dependency jar
#       into OUT_DIR/lib, and this script into OUT_DIR. Hand OUT_DIR to the GPU machine.
#
#   device-check.sh run BUNDLE_DIR [REPORT_DIR]
#       On the GPU machine (no network, maybe no JDK): finds a Java 17+ runtime (RNN4J_JAVA,
#       $JAVA_HOME, java on PATH, /usr/lib/jvm/*, BUNDLE_DIR/jre: pass a jlink-ed runtime there),
#       finds libcudart.so.13 / libcublas.so.13 (a CUDA install, or the nvidia-* wheels of a
#       Python venv: RNN4J_VENV, $VIRTUAL_ENV, or searched under / for */site-packages/nvidia),
#       runs the org.rnn4j.cuda tests (CUDA vs ReferenceBackend parity) and a short CPU-vs-GPU
#       benchmark, and writes REPORT_DIR/device-report.txt (default: BUNDLE_DIR). Budget: the
#       Java run is killed after 420 s, so the whole script stays under 8 minutes.
#       Exit status: 0 only when the backend was available and no test failed.
set -uo pipefail

cmd=${1:-}
here=$(cd "$(dirname "$0")" && pwd)

if [[ "$cmd" == bundle ]]; then
    out=${2:?usage: device-check.sh bundle OUT_DIR}
    root=$(cd "$here/.." && pwd)
    mkdir -p "$out/lib"
    (cd "$root" && mvn -B -o -q dependency:copy-dependencies -pl cuda -DincludeScope=test \
        -DoutputDirectory="$(cd "$out/lib" && pwd)") || exit 1
    cp "$root"/core/target/rnn4j-core-*.jar "$out/lib/" 2>/dev/null
    rm -f "$out"/lib/rnn4j-core-*-tests.jar "$out"/lib/*-sources.jar "$out"/lib/*-javadoc.jar
    cp "$root"/cuda/target/rnn4j-cuda-*.jar "$out/lib/" || { echo "build cuda/ first (mvn verify -pl cuda -am)"; exit 1; }
    rm -f "$out"/lib/rnn4j-cuda-*-sources.jar "$out"/lib/rnn4j-cuda-*-javadoc.jar
    # optional: the native CPU backend as the benchmark's CPU side (else the pure-Java reference)
    ls "$root"/native/target/rnn4j-native-*.jar >/dev/null 2>&1 && cp "$root"/native/target/rnn4j-native-*[0-9T].jar "$out/lib/"
    ls "$out"/lib/openblas-*linux-x86_64.jar >/dev/null 2>&1 || true
    (cd "$root/cuda/target/test-classes" && jar cf "$(cd "$out/lib" && pwd)/rnn4j-cuda-tests.jar" .) || exit 1
    cp "$here/device-check.sh" "$out/"
    echo "bundle in $out: $(ls "$out/lib" | wc -l) jars"
    exit 0
fi

if [[ "$cmd" != run ]]; then
    sed -n 2,22p "$0"
    exit 2
fi

bundle=$(cd "${2:?usage: device-check.sh run BUNDLE_DIR [REPORT_DIR]}" && pwd)
report_dir=${3:-$bundle}
mkdir -p "$report_dir"
report="$report_dir/device-report.txt"
exec > >(tee "$report") 2>&1
echo "rnn4j CUDA device check, $(date -u +%FT%TZ), host $(hostname)"

# ---- Java -------------------------------------------------------------------------------
java=""
for cand in "${RNN4J_JAVA:-}" "${JAVA_HOME:+$JAVA_HOME/bin/java}" "$(command -v java 2>/dev/null)" \
            /usr/lib/jvm/*/bin/java "$bundle/jre/bin/java"; do
    if [[ -n "$cand" && -x "$cand" ]]; then
        v=$("$cand" -version 2>&1 | head -1)
        major=$(echo "$v" | sed -E 's/.*version "([0-9]+).*/\1/')
        if [[ "$major" =~ ^[0-9]+$ && "$major" -ge 17 ]]; then java=$cand; break; fi
    fi
done
if [[ -z "$java" ]]; then
    echo "FAIL: no Java 17+ runtime found; pass one: RNN4J_JAVA=/path/bin/java, or put a jlink-ed runtime"
    echo "      (jlink --add-modules java.base,java.management,jdk.unsupported,java.logging --output jre) at $bundle/jre"
    exit 1
fi
echo "java: $java ($("$java" -version 2>&1 | head -1))"

# ---- CUDA libraries ---------------------------------------------------------------------
echo "--- nvidia-smi"
nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv 2>&1 | head -5 || echo "(no nvidia-smi)"
libdirs=""
add_dir() { [[ -d "$1" && ":$libdirs:" != *":$1:"* ]] && libdirs="${libdirs:+$libdirs:}$1"; }
for d in /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib; do
    [[ -e "$d/libcudart.so.13" || -e "$d/libcublas.so.13" ]] && add_dir "$d"
done
venvs=("${RNN4J_VENV:-}" "${VIRTUAL_ENV:-}")
for v in "${venvs[@]}"; do
    [[ -n "$v" ]] && for f in $(find "$v" -name 'libcudart.so.13*' -o -name 'libcublas.so.13*' -o -name 'libcublasLt.so.13*' \
                                  -o -name 'libnvrtc.so.13*' 2>/dev/null); do add_dir "$(dirname "$f")"; done
done
have_cublas=no
IFS=: read -ra dirs <<< "$libdirs"
for d in "${dirs[@]}"; do [[ -e "$d/libcublas.so.13" ]] && have_cublas=yes; done
if [[ $have_cublas == no ]]; then
    for f in $(timeout 60 find / -xdev \( -path /proc -o -path /sys \) -prune -o \
                 \( -name 'libcudart.so.13*' -o -name 'libcublas.so.13*' -o -name 'libcublasLt.so.13*' \) -print 2>/dev/null); do
        add_dir "$(dirname "$f")"
    done
fi
echo "CUDA library dirs: ${libdirs:-(none found: the backend will report what is missing)}"
export LD_LIBRARY_PATH="${libdirs}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

# ---- tests and benchmark ----------------------------------------------------------------
cp_jars=$(ls "$bundle"/lib/*.jar | tr '\n' ':')
cache=$(mktemp -d)
echo "--- tests (org.rnn4j.cuda) and benchmark"
timeout -k 10 420 "$java" -Xss4m -Xmx8g -Dorg.bytedeco.javacpp.cachedir="$cache" \
    $("$java" -version 2>&1 | grep -qE 'version "(1[7-9]|2[01])' || echo --enable-native-access=ALL-UNNAMED) \
    -cp "$cp_jars" org.rnn4j.cuda.DeviceCheck --bench
rc=$?
[[ $rc -eq 124 || $rc -eq 137 ]] && echo "FAIL: timed out after 420 s"
rm -rf "$cache"
echo "exit status $rc; report: $report"
exit $rc
