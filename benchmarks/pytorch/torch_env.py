"""Explicit thread setup and environment record for the PyTorch benchmark scripts.

Debian's python3-torch runs its GEMMs through the system OpenBLAS (libopenblas0-pthread), which
starts its own pool of OPENBLAS_NUM_THREADS threads when it is loaded. torch.set_num_threads(N)
only sizes ATen's OpenMP pool; with N > 1 on top of an OpenBLAS that already runs N threads the
two pools oversubscribe the cores (each ATen thread's GEMM fans out to OpenBLAS's threads), which
measured 2-3x slower than torch.set_num_threads(1) with OPENBLAS_NUM_THREADS=N. So both counts
are explicit, recorded, and the OpenBLAS one is fixed before torch is imported:

    add_thread_args(parser)           # --torch-threads T (required), --blas-threads B
    args = parser.parse_args()
    blas = fix_blas_threads(args)     # may re-exec this script with OPENBLAS_NUM_THREADS=B
    import torch
    torch.set_num_threads(args.torch_threads)
    env = describe(torch, args.torch_threads, blas)   # dict for every JSON line

Without --blas-threads the OPENBLAS_NUM_THREADS of the environment is used, and must be set.

The OpenBLAS kernels too: Debian's OpenBLAS 0.3.21 does not recognise newer CPUs (seen: Intel
Xeon family 6 model 207) and falls back to its generic Prescott (SSE3) kernels, which halved
PyTorch's speed there. When OPENBLAS_CORETYPE is unset and the library reports such a fallback
core, the script is re-executed with the best core type the CPU's flags allow (SkylakeX with
AVX-512, Haswell with AVX2); an explicit OPENBLAS_CORETYPE is always kept. Both are recorded.
"""
import ctypes
import os
import re
import sys

BLAS_ENV = "OPENBLAS_NUM_THREADS"
_REEXEC_MARK = "RNN4J_TORCH_ENV_REEXEC"


def add_thread_args(parser):
    parser.add_argument("--torch-threads", "--threads", dest="torch_threads", type=int, required=True,
                        help="torch.set_num_threads(T) (ATen's intra-op pool); --threads is the old name")
    parser.add_argument("--blas-threads", type=int,
                        help=f"OpenBLAS's thread count: sets {BLAS_ENV} and re-executes the script "
                             f"before torch is imported when it differs (default: {BLAS_ENV} of the "
                             "environment, which must then be set)")


_FALLBACK_CORES = {"prescott", "core2", "katmai", "coppermine", "northwood", "banias", "atom", "unknown", ""}


def _openblas_corename():
    """The core the system OpenBLAS picks by itself (loaded here through ctypes), or None."""
    import ctypes.util
    for name in ("openblas", "openblasp", "blas"):
        path = ctypes.util.find_library(name)
        if not path:
            continue
        try:
            lib = ctypes.CDLL(path)
            f = lib.openblas_get_corename
        except (OSError, AttributeError):
            continue
        f.restype = ctypes.c_char_p
        return (f() or b"").decode().strip()
    return None


def _best_coretype():
    """SkylakeX with AVX-512, Haswell with AVX2 + FMA, else None (from /proc/cpuinfo)."""
    try:
        with open("/proc/cpuinfo") as f:
            flags = next((l.split(":", 1)[1].split() for l in f if l.startswith("flags")), [])
    except OSError:
        return None
    if "avx512f" in flags and "avx512bw" in flags and "avx512vl" in flags:
        return "SkylakeX"
    if "avx2" in flags and "fma" in flags:
        return "Haswell"
    return None


def _wanted_coretype():
    """The OPENBLAS_CORETYPE to set, or None to leave the environment as it is."""
    if os.environ.get("OPENBLAS_CORETYPE", "").strip():
        return None
    core = _openblas_corename()
    if core is None or core.lower() not in _FALLBACK_CORES:
        return None
    return _best_coretype()


def fix_blas_threads(args, prog=None):
    """Makes OPENBLAS_NUM_THREADS equal to args.blas_threads before torch is loaded (re-executing
    the interpreter with the same arguments if needed) and returns the count."""
    prog = prog or os.path.basename(sys.argv[0])
    if args.torch_threads < 1:
        sys.exit(f"{prog}: --torch-threads must be >= 1")
    current = os.environ.get(BLAS_ENV, "").strip()
    if args.blas_threads is None:
        if not current:
            sys.exit(f"{prog}: the OpenBLAS thread count must be explicit: pass --blas-threads N "
                     f"or set {BLAS_ENV} (torch.set_num_threads does not change it)")
        try:
            n = int(current)
        except ValueError:
            sys.exit(f"{prog}: {BLAS_ENV}={current!r} is not a number")
        if n < 1:
            sys.exit(f"{prog}: {BLAS_ENV} must be >= 1")
        return n
    if args.blas_threads < 1:
        sys.exit(f"{prog}: --blas-threads must be >= 1")
    coretype = None if os.environ.get(_REEXEC_MARK) else _wanted_coretype()
    if current != str(args.blas_threads) or coretype:
        if "torch" in sys.modules or os.environ.get(_REEXEC_MARK):
            sys.exit(f"{prog}: could not set {BLAS_ENV}={args.blas_threads} before torch was loaded")
        env = dict(os.environ)
        env[BLAS_ENV] = str(args.blas_threads)
        if coretype:
            env["OPENBLAS_CORETYPE"] = coretype
        env[_REEXEC_MARK] = "1"
        sys.stdout.flush()
        sys.stderr.flush()
        os.execve(sys.executable, [sys.executable] + sys.argv, env)
    return args.blas_threads


def fix_blas_threads_from_argv(prog):
    """fix_blas_threads on sys.argv's --torch-threads / --blas-threads alone, for scripts that import
    torch at module level: call it before that import. Leaves --help and errors to the script's
    own parser when the thread options are missing."""
    if any(a in ("-h", "--help") for a in sys.argv[1:]):
        return None
    import argparse
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--torch-threads", "--threads", dest="torch_threads", type=int)
    p.add_argument("--blas-threads", type=int)
    a, _ = p.parse_known_args()
    if a.torch_threads is None:
        return None  # the script's parser reports the missing option
    return fix_blas_threads(a, prog)


def cpu_model():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform
    return platform.processor() or "unknown"


def _loaded_libraries(pattern=r"blas|lapack|mkl|gomp|iomp|omp\.so"):
    libs = []
    try:
        for line in open("/proc/self/maps"):
            parts = line.split()
            if len(parts) >= 6 and re.search(pattern, os.path.basename(parts[-1])):
                if parts[-1] not in libs:
                    libs.append(parts[-1])
    except OSError:
        pass
    return libs


def _openblas_info(libs):
    """(config, corename, threads, parallel) of the first loaded library that is OpenBLAS."""
    for path in libs:
        if "blas" not in os.path.basename(path):
            continue
        try:
            lib = ctypes.CDLL(path)  # already loaded: dlopen returns the same handle
            get_config = lib.openblas_get_config
        except (OSError, AttributeError):
            continue
        get_config.restype = ctypes.c_char_p
        info = {"openblas_config": get_config().decode(errors="replace").strip()}
        try:
            lib.openblas_get_corename.restype = ctypes.c_char_p
            info["openblas_core"] = lib.openblas_get_corename().decode(errors="replace").strip()
        except AttributeError:
            pass
        try:
            info["blas_threads_actual"] = int(lib.openblas_get_num_threads())
        except AttributeError:
            pass
        try:
            info["openblas_parallel"] = {0: "sequential", 1: "pthreads", 2: "openmp"}.get(
                int(lib.openblas_get_parallel()), "unknown")
        except AttributeError:
            pass
        info["openblas_lib"] = os.path.realpath(path)
        return info
    return {}


def setup_label(torch_threads, blas_threads):
    """t<torch threads>-b<OpenBLAS threads>, e.g. t1-b2."""
    return f"t{torch_threads}-b{blas_threads}"


def describe(torch, torch_threads, blas_threads):
    """The record that goes into every JSON line."""
    show = torch.__config__.show()
    m = re.search(r"BLAS_INFO=([^,\s]+)", show)
    cap = re.search(r"CPU capability usage: (\S+)", show)
    libs = _loaded_libraries()
    rec = {
        "setup": setup_label(torch_threads, blas_threads),
        "torch_threads": torch_threads,
        "torch_threads_actual": torch.get_num_threads(),
        "blas_threads": blas_threads,
        "blas_threads_env": os.environ.get(BLAS_ENV),
        "omp_num_threads_env": os.environ.get("OMP_NUM_THREADS"),
        "openblas_coretype_env": os.environ.get("OPENBLAS_CORETYPE"),
        "cpu": cpu_model(),
        "torch": torch.__version__,
        "torch_blas_info": m.group(1) if m else None,
        "torch_cpu_capability": cap.group(1) if cap else None,
        "blas_libs": libs,
    }
    rec.update(_openblas_info(libs))
    return rec


def summary(rec):
    """One line for human-readable output."""
    blas = rec.get("openblas_config") or rec.get("torch_blas_info") or "?"
    return (f"PyTorch {rec['torch']} on {rec['cpu']}; setup {rec['setup']}: "
            f"torch.set_num_threads({rec['torch_threads']}) (get_num_threads {rec['torch_threads_actual']}), "
            f"{BLAS_ENV}={rec['blas_threads_env']} (OpenBLAS reports {rec.get('blas_threads_actual', '?')}); "
            f"BLAS: {blas}, core {rec.get('openblas_core', '?')}, {rec.get('openblas_lib', 'lib ?')}; "
            f"OPENBLAS_CORETYPE={rec['openblas_coretype_env'] or 'unset'}")
