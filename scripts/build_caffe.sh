#!/usr/bin/env bash
# Build official BVLC Caffe (commit 9b89154, shipped in the PyPI sdist brocolli-caffe==9.0.2) with Python
# layers for the Python interpreter given by $PYTHON (default: python3 on PATH), and install pycaffe into a
# cache directory outside the clone. Idempotent: a second run with the same inputs only verifies the build.
#
#   scripts/build_caffe.sh [--cuda] [--prefix DIR] [--jobs N] [--sdist FILE] [--download-only]
#
#   --cuda           build with CUDA (official Makefile path, CUDA kernels, no cuDNN: see README "GPU image")
#   --nccl           refused with the reason: this Caffe has no NCCL to build (multi-GPU training does not need it)
#   --prefix         cache directory (default $LIFTING_CAFFE_CACHE or ~/.cache/lifting-caffe)
#   --jobs           parallel compile jobs (default: nproc)
#   --sdist FILE     use this local copy of the sdist instead of downloading it (checked against its SHA-256)
#   --download-only  fetch and check the sdist into the cache, print its path, and stop (no system checks)
#
# Works from any directory; PYTHON and --prefix may be relative to the caller's directory.
# BUILD_CAFFE_SYSROOT (default empty = /) is where the system headers/libraries are looked for by the checks.
# Prints, as its last line, the directory to put on sys.path (it contains the `caffe` package).
set -euo pipefail

SDIST_NAME="brocolli-caffe"
SDIST_VERSION="9.0.2"
SDIST_SHA256="c6410cc60bdd6db685d441b66be7df05410f8850ac88d6b75d48ef9b2315c08a"
SCRIPT_VERSION=3

cuda=0
nccl=0
download_only=0
sdist_file=""
prefix="${LIFTING_CAFFE_CACHE:-$HOME/.cache/lifting-caffe}"
jobs="$(nproc)"
while [ $# -gt 0 ]; do
  case "$1" in
    --cuda) cuda=1 ;;
    --prefix) prefix="$2"; shift ;;
    --jobs) jobs="$2"; shift ;;
    --sdist) sdist_file="$2"; shift ;;
    --download-only) download_only=1 ;;
    --nccl) nccl=1 ;;
    -h|--help) sed -n 2,17p "$0"; exit 0 ;;
    *) echo "build_caffe.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
  shift
done

die() { echo "build_caffe.sh: ERROR: $*" >&2; exit 1; }
log() { echo "build_caffe.sh: $*" >&2; }
[ "$nccl" = 0 ] || die "--nccl: the pinned Caffe (BVLC 9b89154 in $SDIST_NAME $SDIST_VERSION) has no NCCL support to \
build: its Makefile ignores USE_NCCL, its C++ has no caffe::NCCL and its pycaffe no caffe.NCCL. Multi-GPU training \
does not need it: 'lifting train --data DIR --gpu 0,1' averages the gradients of one solver process per GPU in \
pycaffe's solver callback (README, \"Training on Human3.6M\"). Build with --cuda alone."

# Resolve every path once, against the caller's directory, before anything changes directory.
# (A venv's python must not be resolved through its symlink: that would leave the venv.)
abspath() { case "$1" in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
PYTHON="${PYTHON:-python3}"
case "$PYTHON" in
  */*) PYTHON="$(abspath "$PYTHON")"; [ -x "$PYTHON" ] || die "python interpreter '$PYTHON' not found" ;;
  *) PYTHON="$(command -v "$PYTHON")" || die "python interpreter '${PYTHON}' not found on PATH" ;;
esac
prefix="$(abspath "$prefix")"
[ -z "$sdist_file" ] || { sdist_file="$(abspath "$sdist_file")"; [ -f "$sdist_file" ] || die "--sdist $sdist_file: no such file"; }
SYSROOT="${BUILD_CAFFE_SYSROOT:-}"

# --- the sdist: a local copy (--sdist), the cache, or PyPI; always checked against the pinned SHA-256
fetch_sdist() {
  downloads="$prefix/downloads"
  tarball="$downloads/$SDIST_NAME-$SDIST_VERSION.tar.gz"
  mkdir -p "$downloads" || die "cannot create the cache folder $downloads"
  if [ -n "$sdist_file" ]; then
    cp "$sdist_file" "$tarball.part" && mv "$tarball.part" "$tarball"
  elif [ ! -f "$tarball" ]; then
    log "downloading $SDIST_NAME==$SDIST_VERSION (sdist) from PyPI"
    dl="$(mktemp -d "$downloads/pip.XXXXXX")"
    "$PYTHON" -m pip download --quiet --no-deps --no-binary :all: "$SDIST_NAME==$SDIST_VERSION" -d "$dl" >&2 \
      && [ -f "$dl/$SDIST_NAME-$SDIST_VERSION.tar.gz" ] \
      || { rm -rf "$dl"; die "could not download the sdist $SDIST_NAME==$SDIST_VERSION from PyPI (no network or index?); pass a local copy with --sdist FILE"; }
    mv "$dl/$SDIST_NAME-$SDIST_VERSION.tar.gz" "$tarball"; rm -rf "$dl"
  fi
  got="$(sha256sum "$tarball" | cut -d' ' -f1)"
  [ "$got" = "$SDIST_SHA256" ] || { rm -f "$tarball"; die "$SDIST_NAME-$SDIST_VERSION.tar.gz has SHA-256 $got, expected $SDIST_SHA256 (removed; run again)"; }
}
if [ "$download_only" = 1 ]; then
  fetch_sdist
  log "sdist ready: $tarball"
  echo "$tarball"
  exit 0
fi

pyver="$("$PYTHON" -c 'import sys; print(f"{sys.version_info[0]}{sys.version_info[1]}")')"
pyinc="$("$PYTHON" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')"
npinc="$("$PYTHON" -c 'import numpy; print(numpy.get_include())' 2>/dev/null)" \
  || die "numpy is not importable by $PYTHON (install it in the venv before building Caffe)"
npver="$("$PYTHON" -c 'import numpy; print(numpy.__version__.split(".")[0])')"
[ -f "$pyinc/Python.h" ] || die "Python headers missing: $pyinc/Python.h (install python3-dev or use a Python with headers)"

flavour="$([ "$cuda" = 1 ] && echo cuda || echo cpu)"
key="caffe-9b89154-${flavour}-py${pyver}-np${npver}-v${SCRIPT_VERSION}"
dest="$prefix/$key"
stamp="$dest/BUILD_OK"

verify() {
  PYTHONPATH="$dest/python${PYTHONPATH:+:$PYTHONPATH}" GLOG_minloglevel=2 "$PYTHON" - <<'PY'
import caffe
types = caffe.layer_type_list()
assert "Python" in types, "Caffe was built without WITH_PYTHON_LAYER"
print("pycaffe OK:", caffe.__file__, len(types), "layer types")
PY
}

if [ -f "$stamp" ]; then
  log "cached build found: $dest"
  verify >&2 || die "cached build at $dest does not import; delete that folder and run again"
  echo "$dest/python"
  exit 0
fi

# --- system pieces, named one by one so a failure says what is missing
multiarch="$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)"
libdir="/usr/lib/$multiarch"
need_file() { [ -e "$SYSROOT$1" ] || die "missing $2 ($1); on Debian 12: apt-get install $3"; }
need_file /usr/include/boost/version.hpp "Boost headers" libboost-dev
need_file "$libdir/libboost_python$pyver.so" "Boost.Python for Python ${pyver:0:1}.${pyver:1}" libboost-python-dev
need_file "$libdir/libboost_system.so" "Boost.System" libboost-system-dev
need_file "$libdir/libboost_thread.so" "Boost.Thread" libboost-thread-dev
need_file "$libdir/libboost_filesystem.so" "Boost.Filesystem" libboost-filesystem-dev
need_file "$libdir/libboost_regex.so" "Boost.Regex" libboost-regex-dev
need_file /usr/include/google/protobuf/message.h "protobuf headers" libprotobuf-dev
[ -z "$SYSROOT" ] && command -v protoc >/dev/null || die "missing protoc; on Debian 12: apt-get install protobuf-compiler"
need_file /usr/include/glog/logging.h "glog" libgoogle-glog-dev
need_file /usr/include/gflags/gflags.h "gflags" libgflags-dev
need_file /usr/include/gtest/gtest.h "googletest headers (net.cpp includes them)" libgtest-dev
need_file /usr/include/hdf5/serial/hdf5.h "HDF5 (serial)" libhdf5-dev
need_file "$libdir/libopenblas.so" "OpenBLAS" libopenblas-dev
[ -z "$SYSROOT" ] && command -v cmake >/dev/null || die "missing cmake; on Debian 12: apt-get install cmake"
if [ "$cuda" = 1 ]; then
  command -v nvcc >/dev/null || die "--cuda given but nvcc is not on PATH (use an nvidia/cuda *-devel image)"
fi

fetch_sdist
work="$prefix/work-$key"
mkdir -p "$work"
cd "$work"
rm -rf src && mkdir src && tar xzf "$tarball" -C src --strip-components=1
cd src

if [ "$cuda" = 0 ]; then
  # The sdist's CMakeLists points include/link paths at a conda install; point them at this machine.
  sed -i \
    -e "s|^include_directories(\${ANACONDA_HOME}/include .*|include_directories($pyinc $npinc /usr/include/hdf5/serial)|" \
    -e "s|^link_directories(\${ANACONDA_HOME}/lib)|link_directories($libdir/hdf5/serial)\nadd_definitions(-DWITH_PYTHON_LAYER)|" \
    CMakeLists.txt
  sed -i -e "s|-lboost_python |-lboost_python$pyver |" python/CMakeLists.txt
  grep -q "WITH_PYTHON_LAYER" CMakeLists.txt || die "could not patch CMakeLists.txt (unexpected sdist layout)"
  grep -q "lboost_python$pyver" python/CMakeLists.txt || die "could not patch python/CMakeLists.txt"
  mkdir -p build && cd build
  log "configuring (CPU_ONLY, Python layers, Python $pyver, numpy $npver)"
  cmake .. -DCMAKE_BUILD_TYPE=Release -DCPU_ONLY=ON -DBUILD_python=ON -DBUILD_python_layer=ON \
    -DUSE_OPENCV=OFF -DUSE_LEVELDB=OFF -DUSE_LMDB=OFF >cmake.log 2>&1 \
    || { tail -30 cmake.log >&2; die "cmake configure failed (log: $PWD/cmake.log)"; }
  log "compiling with $jobs jobs (about 3 minutes on 2 cores)"
  make -j"$jobs" pycaffe >make.log 2>&1 || { grep -m5 -B2 -A5 "error" make.log >&2; die "compile failed (log: $PWD/make.log)"; }
  cd ..
else
  # CUDA: the official Makefile, which keeps Caffe's CUDA kernels. cuDNN stays off: Caffe 1.0's cuDNN
  # convolution calls cudnnGetConvolutionForwardAlgorithm, removed in cuDNN 8.
  arch="${CAFFE_CUDA_ARCH:--gencode arch=compute_70,code=sm_70 -gencode arch=compute_80,code=sm_80 -gencode arch=compute_90,code=sm_90 -gencode arch=compute_90,code=compute_90}"
  cat > Makefile.config <<CFG
CUDA_DIR := $(dirname "$(dirname "$(command -v nvcc)")")
CUDA_ARCH := $arch
BLAS := open
USE_OPENCV := 0
USE_LEVELDB := 0
USE_LMDB := 0
WITH_PYTHON_LAYER := 1
PYTHON_LIBRARIES := boost_python$pyver python${pyver:0:1}.${pyver:1}
PYTHON_INCLUDE := $pyinc $npinc
PYTHON_LIB := $("$PYTHON" -c 'import sysconfig; print(sysconfig.get_config_var("LIBDIR"))')
INCLUDE_DIRS := \$(PYTHON_INCLUDE) /usr/local/include /usr/include/hdf5/serial
LIBRARY_DIRS := \$(PYTHON_LIB) /usr/local/lib /usr/lib $libdir/hdf5/serial
BUILD_DIR := build
DISTRIBUTE_DIR := distribute
Q ?= @
CFG
  log "compiling with CUDA ($jobs jobs)"
  make -j"$jobs" pycaffe >make.log 2>&1 || { grep -m5 -B2 -A5 "error" make.log >&2; die "CUDA compile failed (log: $PWD/make.log)"; }
fi

# Install: the python package with the real _caffe.so (the build leaves a symlink) into the cache.
rm -rf "$dest.tmp" && mkdir -p "$dest.tmp/python"
cp -rL python/caffe "$dest.tmp/python/caffe"
rm -rf "$dest.tmp/python/caffe/test"
[ -f "$dest.tmp/python/caffe/_caffe.so" ] || die "build produced no _caffe.so"
if [ "$cuda" = 1 ]; then
  # the Makefile build links _caffe.so to libcaffe.so through the rpath $ORIGIN/../../build/lib
  mkdir -p "$dest.tmp/build/lib" && cp -a build/lib/libcaffe.so* "$dest.tmp/build/lib/"
fi
rm -rf "$dest" && mv "$dest.tmp" "$dest"
verify >&2 || die "the fresh build does not import (see above)"
printf 'sdist=%s==%s sha256=%s flavour=%s python=%s numpy=%s built=%s\n' \
  "$SDIST_NAME" "$SDIST_VERSION" "$SDIST_SHA256" "$flavour" "$pyver" "$npver" "$(date -u +%FT%TZ)" > "$stamp"
rm -rf "$work/src"
log "installed into $dest"
echo "$dest/python"
