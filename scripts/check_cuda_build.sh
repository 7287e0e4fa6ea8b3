#!/usr/bin/env bash
# Prove that the CUDA build of Caffe compiles (no GPU needed): install the pinned CUDA wheels into a throw-away
# folder (scripts/cuda_toolkit.sh), run `build_caffe.sh --cuda` (NCCL on, cuDNN off) into that folder through to a
# _caffe.so, import it, and write what happened to results/cuda_build.txt (compile time, toolchain versions).
# Not part of CI: on 2 cores this takes most of an hour.
#
#   scripts/check_cuda_build.sh [--dir DIR] [--jobs N] [--out FILE] [--source FILE]
#
#   --dir DIR      the throw-away folder (default: a new folder under /tmp; removed at the end unless --dir)
#   --jobs N       parallel compile jobs (default: nproc)
#   --out FILE     the report (default: results/cuda_build.txt)
#   --source FILE  passed to build_caffe.sh (a local copy of the Caffe source)
# CAFFE_CUDA_ARCH (default here "90", compute capability 9.0: H100/H200) picks the GPU architectures; PYTHON the
# interpreter (a venv with numpy; default .venv/bin/python beside this script).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
die() { echo "check_cuda_build.sh: ERROR: $*" >&2; exit 1; }
abspath() { case "$1" in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
dir=""
jobs="$(nproc)"
out="$ROOT/results/cuda_build.txt"
source_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) dir="$(abspath "${2:?--dir needs a folder}")"; shift ;;
    --jobs) jobs="${2:?--jobs needs a number}"; shift ;;
    --out) out="$(abspath "${2:?--out needs a file}")"; shift ;;
    --source) source_args=(--source "$(abspath "${2:?--source needs a file}")"); shift ;;
    -h|--help) sed -n 2,15p "$0"; exit 0 ;;
    *) echo "check_cuda_build.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
case "$PYTHON" in */*) PYTHON="$(abspath "$PYTHON")" ;; *) PYTHON="$(command -v "$PYTHON" || echo "$PYTHON")" ;; esac
[ -x "$PYTHON" ] || die "python interpreter $PYTHON not found (run scripts/setup.sh first, or set PYTHON)"
[ -d "$(dirname "$out")" ] || die "--out $out: folder $(dirname "$out") does not exist"
keep=1
[ -n "$dir" ] || { dir="$(mktemp -d /tmp/cuda-check.XXXXXX)"; keep=0; }
mkdir -p "$dir"
export CAFFE_CUDA_ARCH="${CAFFE_CUDA_ARCH:-90}"

t0="$(date +%s)"
env_lines="$(PYTHON="$PYTHON" "$ROOT/scripts/cuda_toolkit.sh" "$dir/toolkit" | tail -n 2)"
CUDA_HOME="$(echo "$env_lines" | sed -n 's/^CUDA_HOME=//p')"
NCCL_DIR="$(echo "$env_lines" | sed -n 's/^NCCL_DIR=//p')"
export CUDA_HOME NCCL_DIR
t1="$(date +%s)"
echo "check_cuda_build.sh: toolkit in $CUDA_HOME ($((t1 - t0)) s); building Caffe with CUDA, $jobs jobs" >&2
set +e
pyc="$(PYTHON="$PYTHON" "$ROOT/scripts/build_caffe.sh" --cuda --prefix "$dir/cache" --jobs "$jobs" \
       ${source_args[@]+"${source_args[@]}"} | tail -n 1)"
rc=$?
set -e
t2="$(date +%s)"
[ "$rc" = 0 ] && [ -d "$pyc/caffe" ] || die "build_caffe.sh --cuda failed after $((t2 - t1)) s (logs under $dir/cache/work-*/src/build/)"

# Import in a fresh interpreter (no GPU needed): the Python layer, NCCL, and what _caffe.so links against.
import_out="$(PYTHONPATH="$pyc" GLOG_minloglevel=2 "$PYTHON" - <<'PY'
import caffe
types = caffe.layer_type_list()
assert "Python" in types, "no Python layer"
assert hasattr(caffe, "NCCL"), "no caffe.NCCL: built without USE_NCCL"
print("import caffe: OK,", caffe.__file__)
print("layer types:", len(types), "(Python layer included); caffe.NCCL:", caffe.NCCL.__name__,
      "; caffe.Solver.add_callback:", hasattr(caffe.Solver, "add_callback"))
PY
)" || die "the CUDA build does not import"
so="$pyc/caffe/_caffe.so"
nccl_version="$(sed -n 's/^#define NCCL_\(MAJOR\|MINOR\|PATCH\) *\([0-9]*\).*/\2/p' "$NCCL_DIR/include/nccl.h" | paste -sd.)"
{
  echo "# CUDA build of official BVLC Caffe (scripts/check_cuda_build.sh), written $(date -u +%FT%TZ)"
  echo "result: OK (_caffe.so built with CUDA and NCCL, imports without a GPU)"
  echo "machine: $(nproc) cores, $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1), $(free -g | awk '/^Mem:/{print $2}') GiB; GPU: $(nvidia-smi -L 2>/dev/null | head -n 1 | grep . || echo none)"
  echo "jobs: $jobs; toolkit install: $((t1 - t0)) s; build_caffe.sh --cuda (unpack, patch, configure, compile, install): $((t2 - t1)) s ($(( (t2 - t1) / 60 )) min)"
  echo "CUDA architectures (CAFFE_CUDA_ARCH): $CAFFE_CUDA_ARCH"
  echo "nvcc: $("$CUDA_HOME/bin/nvcc" --version | tail -n 2 | head -n 1)"
  echo "host compiler: $(gcc --version | head -n 1); $(cmake --version | head -n 1)"
  echo "NCCL: $nccl_version (nccl.h of nvidia-nccl-cu13)"
  echo "python: $("$PYTHON" -c 'import sys, numpy; print(sys.version.split()[0], "numpy", numpy.__version__)')"
  echo "wheels (scripts/cuda-wheels.txt):"
  grep -v '^#' "$ROOT/scripts/cuda-wheels.txt" | sed 's/^/  /'
  echo "stamp of the build:"
  sed 's/^/  /' "$(dirname "$pyc")/BUILD_OK"
  echo "import:"
  echo "$import_out" | sed 's/^/  /'
  echo "_caffe.so links (ldd, CUDA/NCCL lines):"
  ldd "$so" | grep -E 'cuda|cublas|curand|nccl' | sed -e 's/ (0x[0-9a-f]*)//' -e "s|$dir|<throw-away>|g" -e 's/^\s*/  /'
} > "$out.tmp"
mv "$out.tmp" "$out"
echo "check_cuda_build.sh: OK, report in $out" >&2
[ "$keep" = 1 ] || rm -rf "$dir"
