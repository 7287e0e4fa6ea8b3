#!/usr/bin/env bash
# One-command set-up on Debian 12: system packages, Caffe with Python layers (cached), venv, the project.
#   scripts/setup.sh            (idempotent; a second run takes seconds)
# Environment: PYTHON (default python3.11 or python3), LIFTING_CAFFE_CACHE (default ~/.cache/lifting-caffe).
set -euo pipefail
cd "$(dirname "$0")/.."
APT_PACKAGES="build-essential cmake libboost-system-dev libboost-thread-dev libboost-filesystem-dev
  libboost-regex-dev libboost-python-dev libprotobuf-dev protobuf-compiler libgoogle-glog-dev libgflags-dev
  libhdf5-dev libopenblas-dev libgtest-dev"
missing=""
for p in $APT_PACKAGES; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
  echo "setup: installing Debian packages:$missing"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
PY="${PYTHON:-$(command -v python3.11 || command -v python3)}"
"$PY" -c 'import sys; assert sys.version_info >= (3, 11), sys.version' \
  || { echo "setup: Python >= 3.11 required ($PY)"; exit 1; }
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -r requirements.txt
.venv/bin/python -m pip install -q --no-deps -e .
caffe_python="$(PYTHON=.venv/bin/python scripts/build_caffe.sh "$@" | tail -n 1)"
site="$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
echo "$caffe_python" > "$site/pycaffe.pth"
.venv/bin/python -c "import caffe, lifting; assert 'Python' in caffe.layer_type_list(); print('setup: OK, pycaffe at', caffe.__file__)"
