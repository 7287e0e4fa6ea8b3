#!/usr/bin/env bash
# Install the pinned CUDA toolkit wheels (scripts/cuda-wheels.txt: nvcc, runtime, cuBLAS, cuRAND, NCCL) into DIR and
# lay them out as a CUDA toolkit that nvcc and CMake's FindCUDA understand. Used by check_cuda_build.sh and the
# Dockerfile, so both build with the same pins.
#
#   scripts/cuda_toolkit.sh DIR     (PYTHON: the interpreter whose pip installs the wheels; default python3)
#
# Prints, as its last two lines, CUDA_HOME=... and NCCL_DIR=... for `build_caffe.sh --cuda`.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
die() { echo "cuda_toolkit.sh: ERROR: $*" >&2; exit 1; }
[ $# = 1 ] && [ -n "$1" ] || { echo "usage: scripts/cuda_toolkit.sh DIR" >&2; exit 2; }
case "$1" in /*) dir="$1" ;; *) dir="$PWD/$1" ;; esac
PYTHON="${PYTHON:-python3}"
command -v "$PYTHON" >/dev/null || die "python interpreter '$PYTHON' not found"
mkdir -p "$dir" || die "cannot create $dir"
site="$dir/site"
echo "cuda_toolkit.sh: installing the pinned CUDA wheels into $site" >&2
"$PYTHON" -m pip install -q --disable-pip-version-check --no-deps --target "$site" -r "$HERE/cuda-wheels.txt" >&2 \
  || die "pip could not install the wheels of $HERE/cuda-wheels.txt (no network or index?)"
cuda="$site/nvidia/cu13"
nccl="$site/nvidia/nccl"
[ -x "$cuda/bin/nvcc" ] || die "no nvcc in $cuda/bin after installing the wheels"
[ -f "$nccl/include/nccl.h" ] || die "no nccl.h in $nccl/include after installing the wheels"
# nvcc.profile looks for targets/<arch>/{include,lib}; FindCUDA for lib64 and unversioned libraries.
target="$(uname -m)-linux"
mkdir -p "$cuda/targets/$target"
ln -sfn ../../include "$cuda/targets/$target/include"
ln -sfn ../../lib "$cuda/targets/$target/lib"
ln -sfn lib "$cuda/lib64"
link_so() {  # DIR NAME: DIR/NAME.so -> the one DIR/NAME.so.<major>
  local versioned
  versioned="$(cd "$1" && ls "$2".so.* 2>/dev/null | head -n 1)"
  [ -n "$versioned" ] || die "no $2.so.* in $1"
  ln -sfn "$versioned" "$1/$2.so"
}
for lib in libcudart libcublas libcublasLt libcurand; do link_so "$cuda/lib" "$lib"; done
link_so "$nccl/lib" libnccl
"$cuda/bin/nvcc" --version >/dev/null || die "$cuda/bin/nvcc does not run"
echo "CUDA_HOME=$cuda"
echo "NCCL_DIR=$nccl"
