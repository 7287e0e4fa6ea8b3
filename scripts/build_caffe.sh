#!/usr/bin/env bash
# Build official BVLC Caffe (the pristine tree of BVLC commit 99bd997, whose src/, include/, python/, cmake/ and
# Makefile are those of 9b89154) with Python layers for the Python interpreter given by $PYTHON (default: python3 on
# PATH), plus the few patches under scripts/caffe-patches/, and install pycaffe into a cache outside the clone.
# Idempotent: a second run with the same inputs only verifies the build.
#
#   scripts/build_caffe.sh [--cuda] [--prefix DIR] [--jobs N] [--source FILE] [--download-only] [--prepare-only DIR]
#
#   --cuda             CUDA build with NCCL (multi-GPU); cuDNN off. nvcc from $CUDA_HOME/bin or PATH, NCCL from
#                      $NCCL_DIR (include/, lib/) or the system; GPU architectures $CAFFE_CUDA_ARCH ("75 80 90")
#   --prefix DIR       cache directory (default $LIFTING_CAFFE_CACHE or ~/.cache/lifting-caffe)
#   --jobs N           parallel compile jobs (default: nproc)
#   --source FILE      use this local copy of the source instead of downloading it: Debian's orig tarball (checked
#                      by its SHA-256) or BVLC's GitHub archive of 9b89154 (checked by its build-tree hash)
#   --download-only    fetch and check the source into the cache, print its path, and stop (no system checks)
#   --prepare-only DIR unpack, check and patch the source into DIR (the exact tree that is compiled), and stop
#
# The source, unless --source or already in the cache: Debian's source package caffe 1.0.0+git20180821.99bd997-8
# (bullseye, main) through apt-get with a private sources list (the system's apt set-up is not touched); failing that,
# ../shared/caffe-src/ beside the clone when present. BUILD_CAFFE_DEBIAN_MIRROR (default http://deb.debian.org/debian)
# and BUILD_CAFFE_OFFLINE_COPY (default that ../shared file) change those two. Works from any directory; PYTHON and
# paths may be relative.
# BUILD_CAFFE_SYSROOT (default empty = /) is where the system headers/libraries are looked for by the checks.
# Prints, as its last line, the directory to put on sys.path (it contains the `caffe` package).
set -euo pipefail

SRC_NAME="caffe_1.0.0+git20180821.99bd997.orig.tar.gz"
SRC_SHA256="e0eb3f06794f7402c77b7dec8e8480273ee1a1bb192e9122b621a69d4147ad0c"
# caffe_tree.py's hash of the build tree (CMakeLists.txt Makefile cmake include src python tools): the same for
# Debian's tarball of 99bd997 and BVLC's GitHub archive of 9b89154 (the commits between them touch docs only).
SRC_TREE_SHA256="2cd5452d7ea295a0b67613683838387293f5d1d461850079df686634e8dddf9a"
DEBIAN_SOURCE="caffe=1.0.0+git20180821.99bd997-8"
DEBIAN_SOURCES_LINE="deb-src ${BUILD_CAFFE_DEBIAN_MIRROR:-http://deb.debian.org/debian} bullseye main"
SCRIPT_VERSION=4

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
PATCH_DIR="$HERE/caffe-patches"
TREE_PY="$HERE/caffe_tree.py"
SHARED_COPY="${BUILD_CAFFE_OFFLINE_COPY:-$(dirname "$HERE")/../shared/caffe-src/$SRC_NAME}"

cuda=0
download_only=0
prepare_dir=""
source_file=""
prefix="${LIFTING_CAFFE_CACHE:-$HOME/.cache/lifting-caffe}"
jobs="$(nproc)"
die() { echo "build_caffe.sh: ERROR: $*" >&2; exit 1; }
log() { echo "build_caffe.sh: $*" >&2; }
need_arg() { [ $# -ge 2 ] && [ -n "$2" ] || { echo "build_caffe.sh: $1 needs a value" >&2; exit 2; }; }
while [ $# -gt 0 ]; do
  case "$1" in
    --cuda) cuda=1 ;;
    --prefix) need_arg "$@"; prefix="$2"; shift ;;
    --jobs) need_arg "$@"; jobs="$2"; shift ;;
    --source) need_arg "$@"; source_file="$2"; shift ;;
    --download-only) download_only=1 ;;
    --prepare-only) need_arg "$@"; prepare_dir="$2"; shift ;;
    -h|--help) sed -n 2,24p "$0"; exit 0 ;;
    *) echo "build_caffe.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
case "$jobs" in ''|*[!0-9]*|0) echo "build_caffe.sh: --jobs '$jobs' is not a positive whole number" >&2; exit 2 ;; esac

# Resolve every path once, against the caller's directory, before anything changes directory.
# (A venv's python must not be resolved through its symlink: that would leave the venv.)
abspath() { case "$1" in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
PYTHON="${PYTHON:-python3}"
case "$PYTHON" in
  */*) PYTHON="$(abspath "$PYTHON")"; [ -x "$PYTHON" ] || die "python interpreter '$PYTHON' not found" ;;
  *) PYTHON="$(command -v "$PYTHON")" || die "python interpreter '${PYTHON}' not found on PATH" ;;
esac
prefix="$(abspath "$prefix")"
[ -z "$prepare_dir" ] || prepare_dir="$(abspath "$prepare_dir")"
[ -z "$source_file" ] || { source_file="$(abspath "$source_file")"; [ -f "$source_file" ] || die "--source $source_file: no such file"; }
SYSROOT="${BUILD_CAFFE_SYSROOT:-}"

sha256() { sha256sum "$1" | cut -d' ' -f1; }
tree_hash() { "$PYTHON" "$TREE_PY" hash "$1"; }
# name:sha256-prefix of every patch, in the order applied (also written into the stamp)
patch_list() {
  local p out=""
  for p in "$PATCH_DIR"/*.patch; do [ -f "$p" ] && out="$out${out:+,}$(basename "$p"):$(sha256 "$p" | cut -c1-16)"; done
  echo "${out:-none}"
}

# Check a source tarball: Debian's by its SHA-256, any other (BVLC's GitHub archive) by its build-tree hash.
# Sets src_kind. Returns 1 (with the reason on stderr) when it is neither.
check_source() {
  local f="$1" got tree
  got="$(sha256 "$f")"
  if [ "$got" = "$SRC_SHA256" ]; then src_kind="debian-orig"; return 0; fi
  tree="$(tree_hash "$f" 2>/dev/null)" || tree="unreadable"
  if [ "$tree" = "$SRC_TREE_SHA256" ]; then src_kind="bvlc-archive"; return 0; fi
  log "$f has SHA-256 $got, expected $SRC_SHA256 (Debian's $SRC_NAME), and build-tree hash $tree, expected $SRC_TREE_SHA256 (BVLC 99bd997/9b89154)"
  return 1
}

# Debian's source package through apt-get with private lists: nothing of the system's apt set-up is read or written.
fetch_debian() {
  local into="$1" apt="$prefix/apt"
  command -v apt-get >/dev/null || return 1
  rm -rf "$apt" && mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/dl"
  echo "$DEBIAN_SOURCES_LINE" > "$apt/sources.list"
  local opts=(-o "Dir::Etc::SourceList=$apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
              -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache" -o "APT::Sandbox::User=$(id -un)"
              -o Acquire::Retries=2)
  log "downloading Debian's source package $DEBIAN_SOURCE ($DEBIAN_SOURCES_LINE)"
  if apt-get -qq "${opts[@]}" update >"$apt/apt.log" 2>&1 \
     && (cd "$apt/dl" && apt-get -qq "${opts[@]}" source --download-only "$DEBIAN_SOURCE") >>"$apt/apt.log" 2>&1 \
     && [ -f "$apt/dl/$SRC_NAME" ]; then
    mv "$apt/dl/$SRC_NAME" "$into"
    rm -rf "$apt"
    return 0
  fi
  log "Debian download failed (log: $apt/apt.log)"
  return 1
}

# --- the source: --source, the cache, Debian, or ../shared beside the clone; always checked before use
fetch_source() {
  downloads="$prefix/downloads"
  tarball="$downloads/$SRC_NAME"
  mkdir -p "$downloads" || die "cannot create the cache folder $downloads"
  if [ -n "$source_file" ]; then
    check_source "$source_file" || die "--source $source_file is not the pinned Caffe source (see above)"
    tarball="$downloads/$(basename "$source_file")"
    [ "$source_file" -ef "$tarball" ] || { cp "$source_file" "$tarball.part" && mv "$tarball.part" "$tarball"; }
  elif [ ! -f "$tarball" ]; then
    if ! fetch_debian "$tarball.part"; then
      [ -f "$SHARED_COPY" ] || die "could not download Debian's source package $DEBIAN_SOURCE (no network?); pass a local copy of $SRC_NAME (or BVLC's archive of 9b89154) with --source FILE"
      log "using the offline copy $SHARED_COPY"
      cp "$SHARED_COPY" "$tarball.part"
    fi
    mv "$tarball.part" "$tarball"
  fi
  check_source "$tarball" || { rm -f "$tarball"; die "$tarball is not the pinned Caffe source (removed; run again)"; }
  src_sha256="$(sha256 "$tarball")"
}

# --- unpack into $1 and apply every patch of scripts/caffe-patches/ in name order (each must apply cleanly)
prepare_tree() {
  local dir="$1" unpack="$1.unpack" p
  rm -rf "$dir" "$unpack" && mkdir -p "$unpack"
  tar xzf "$tarball" -C "$unpack" || die "cannot unpack $tarball"
  if [ "$(ls -A "$unpack" | wc -l)" = 1 ] && [ -d "$unpack/$(ls -A "$unpack")" ]; then
    mv "$unpack/$(ls -A "$unpack")" "$dir" && rmdir "$unpack"     # BVLC's archive: one top folder
  else
    mv "$unpack" "$dir"                                            # Debian's tarball: no top folder
  fi
  [ "$(tree_hash "$dir")" = "$SRC_TREE_SHA256" ] || die "the unpacked tree in $dir is not the pinned source"
  for p in "$PATCH_DIR"/*.patch; do
    [ -f "$p" ] || continue
    (cd "$dir" && patch -p1 --forward --batch --quiet --no-backup-if-mismatch < "$p") >&2 \
      || die "patch $(basename "$p") does not apply to the pinned source"
  done
  patches="$(patch_list)"
  patched_tree="$(tree_hash "$dir")"
}

if [ "$download_only" = 1 ]; then
  fetch_source
  log "source ready: $tarball"
  echo "$tarball"
  exit 0
fi
if [ -n "$prepare_dir" ]; then
  fetch_source
  prepare_tree "$prepare_dir"
  log "prepared $prepare_dir: $src_kind $(basename "$tarball") + patches $patches (build tree $patched_tree)"
  echo "$prepare_dir"
  exit 0
fi

pyver="$("$PYTHON" -c 'import sys; print(f"{sys.version_info[0]}{sys.version_info[1]}")')"
pyinc="$("$PYTHON" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')"
pylib="$("$PYTHON" -c 'import os, sysconfig as s; print(os.path.join(s.get_config_var("LIBDIR"), s.get_config_var("LDLIBRARY")))')"
npinc="$("$PYTHON" -c 'import numpy; print(numpy.get_include())' 2>/dev/null)" \
  || die "numpy is not importable by $PYTHON (install it in the venv before building Caffe)"
npver="$("$PYTHON" -c 'import numpy; print(numpy.__version__.split(".")[0])')"
[ -f "$pyinc/Python.h" ] || die "Python headers missing: $pyinc/Python.h (install python3-dev or use a Python with headers)"

flavour="$([ "$cuda" = 1 ] && echo cuda || echo cpu)"
key="caffe-bvlc-99bd997-${flavour}-py${pyver}-np${npver}-v${SCRIPT_VERSION}"
dest="$prefix/$key"
stamp="$dest/BUILD_OK"

verify() {
  PYTHONPATH="$dest/python${PYTHONPATH:+:$PYTHONPATH}" GLOG_minloglevel=2 "$PYTHON" - <<'PY'
import caffe
types = caffe.layer_type_list()
assert "Python" in types, "Caffe was built without WITH_PYTHON_LAYER"
print("pycaffe OK:", caffe.__file__, len(types), "layer types, NCCL class:", hasattr(caffe, "NCCL"))
PY
}

if [ -f "$stamp" ] && ! grep -qF "patches=$(patch_list) " "$stamp"; then
  log "the cached build at $dest was made with other patches than scripts/caffe-patches/ holds now: rebuilding"
  rm -f "$stamp"
fi
if [ -f "$stamp" ]; then
  log "cached build found: $dest ($(cat "$stamp"))"
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
need_file /usr/include/google/protobuf/message.h "protobuf headers" libprotobuf-dev
[ -z "$SYSROOT" ] && command -v protoc >/dev/null || die "missing protoc; on Debian 12: apt-get install protobuf-compiler"
need_file /usr/include/glog/logging.h "glog" libgoogle-glog-dev
need_file /usr/include/gflags/gflags.h "gflags" libgflags-dev
need_file /usr/include/hdf5/serial/hdf5.h "HDF5 (serial)" libhdf5-dev
need_file "$libdir/libopenblas.so" "OpenBLAS" libopenblas-dev
[ -z "$SYSROOT" ] && command -v cmake >/dev/null || die "missing cmake; on Debian 12: apt-get install cmake"
[ -z "$SYSROOT" ] && command -v patch >/dev/null || die "missing patch; on Debian 12: apt-get install patch"
cmake_cuda=(-DCPU_ONLY=ON)
if [ "$cuda" = 1 ]; then
  nvcc="${CUDA_HOME:+$CUDA_HOME/bin/nvcc}"
  [ -n "$nvcc" ] || nvcc="$(command -v nvcc)" \
    || die "--cuda given but nvcc is not on PATH and CUDA_HOME is not set (scripts/check_cuda_build.sh installs a toolkit)"
  [ -x "$nvcc" ] || die "--cuda: $nvcc is not an executable nvcc"
  cuda_root="$(dirname "$(dirname "$(readlink -f "$nvcc")")")"
  nccl_dir="${NCCL_DIR:-}"
  if [ -n "$nccl_dir" ]; then
    [ -f "$nccl_dir/include/nccl.h" ] || die "--cuda: NCCL_DIR=$nccl_dir has no include/nccl.h"
  else
    [ -f /usr/include/nccl.h ] || [ -f /usr/local/include/nccl.h ] \
      || die "--cuda: NCCL not found (no /usr/include/nccl.h); set NCCL_DIR to a folder with include/nccl.h and lib/libnccl.so"
  fi
  arch="${CAFFE_CUDA_ARCH:-75 80 90}"
  case "$arch" in *[!0-9\ ]*|'') die "CAFFE_CUDA_ARCH='$arch': expected compute capabilities like '75 80 90'" ;; esac
  ptx="${arch##* }"
  cmake_cuda=(-DCPU_ONLY=OFF -DUSE_CUDNN=OFF -DUSE_NCCL=ON "-DCUDA_TOOLKIT_ROOT_DIR=$cuda_root"
              -DCUDA_ARCH_NAME=Manual "-DCUDA_ARCH_BIN=$arch" "-DCUDA_ARCH_PTX=$ptx")
fi

fetch_source
work="$prefix/work-$key"
mkdir -p "$work"
# Resume: an interrupted build whose tree is exactly the prepared one keeps its objects (make redoes only what is
# missing); anything else is replaced by the freshly prepared tree.
prepare_tree "$work/fresh"
if [ -f "$work/src/build/CMakeCache.txt" ] && [ "$(tree_hash "$work/src")" = "$patched_tree" ]; then
  log "resuming the interrupted build in $work/src (same source, same patches)"
  rm -rf "$work/fresh"
else
  rm -rf "$work/src" && mv "$work/fresh" "$work/src"
fi
cd "$work/src"
mkdir -p build && cd build
log "configuring BVLC Caffe ($flavour${cuda_root:+, CUDA at $cuda_root, NCCL, arch $arch}, Python layers, Python $pyver, numpy $npver)"
# Shared libcaffe off: libcaffe.a is linked whole into _caffe.so, so the installed module needs no libcaffe.so.
NCCL_DIR="${nccl_dir:-}" cmake .. -DCMAKE_BUILD_TYPE=Release "${cmake_cuda[@]}" -DBUILD_SHARED_LIBS=OFF \
  -DBLAS=Open -Dpython_version=3 "-DPYTHON_EXECUTABLE=$PYTHON" "-DPYTHON_INCLUDE_DIR=$pyinc" \
  "-DPYTHON_LIBRARY=$pylib" "-DNUMPY_INCLUDE_DIR=$npinc" -DBUILD_python=ON -DBUILD_python_layer=ON \
  -DBUILD_docs=OFF -DBUILD_matlab=OFF -DUSE_OPENCV=OFF -DUSE_LEVELDB=OFF -DUSE_LMDB=OFF >cmake.log 2>&1 \
  || { tail -30 cmake.log >&2; die "cmake configure failed (log: $PWD/cmake.log)"; }
log "compiling with $jobs jobs (CPU: about 4 minutes on 2 cores; log: $PWD/make.log)"
t0="$(date +%s)"
make -j"$jobs" pycaffe >make.log 2>&1 || { grep -m5 -B2 -A5 "error" make.log >&2; die "compile failed (log: $PWD/make.log)"; }
compile_s="$(( $(date +%s) - t0 ))"
cd ..
[ -f python/caffe/_caffe.so ] || die "the build produced no python/caffe/_caffe.so (log: $PWD/build/make.log)"

# Install: the python package with the real _caffe.so (the build leaves a symlink) into the cache.
rm -rf "$dest.tmp" && mkdir -p "$dest.tmp/python"
cp -rL python/caffe "$dest.tmp/python/caffe"
rm -rf "$dest.tmp/python/caffe/test"
rm -rf "$dest" && mv "$dest.tmp" "$dest"
verify >&2 || die "the fresh build does not import (see above)"
{
  printf 'source=%s sha256=%s kind=%s build_tree=%s\n' "$(basename "$tarball")" "$src_sha256" "$src_kind" "$SRC_TREE_SHA256"
  printf 'patches=%s patched_tree=%s\n' "$patches" "$patched_tree"
  printf 'flavour=%s python=%s numpy=%s compile_s=%s built=%s\n' "$flavour" "$pyver" "$npver" "$compile_s" "$(date -u +%FT%TZ)"
  [ "$cuda" = 0 ] || printf 'cuda=%s nvcc=%s arch=%s nccl=%s\n' "$cuda_root" \
    "$("$nvcc" --version | sed -n 's/.*release \([0-9.]*\).*/\1/p')" "$arch" "${nccl_dir:-system}"
} > "$stamp.tmp" && mv "$stamp.tmp" "$stamp"
rm -rf "$work"
log "installed into $dest ($compile_s s compile)"
echo "$dest/python"
