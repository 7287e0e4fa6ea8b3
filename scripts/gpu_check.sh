#!/usr/bin/env bash
# The one GPU check (at most about 8 minutes on one GPU with 16 cores, the --cuda build included): installs the pinned
# CUDA wheels (scripts/cuda_toolkit.sh) and builds Caffe with CUDA + NCCL for compute capability 9.0 (CAFFE_CUDA_ARCH
# to change) into a throw-away folder, then scripts/gpu_check.py: GPU vs CPU forward of the extended net on the same
# input (max abs difference), 20 training iterations of the full extended net and of the baseline CPM (seconds per
# iteration, ratio). Writes results/gpu_check.txt (and results/cuda_build_gpu_machine.txt from the build).
#
#   scripts/gpu_check.sh [--device N] [--dir DIR] [--source FILE]
#
# Needs the venv (scripts/setup.sh; PYTHON to use another interpreter) and a GPU with its driver.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
die() { echo "gpu_check.sh: ERROR: $*" >&2; exit 1; }
device=0
dir=""
source_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --device) device="${2:?--device needs a GPU id}"; shift ;;
    --dir) dir="${2:?--dir needs a folder}"; shift ;;
    --source) source_args=(--source "${2:?--source needs a file}"); shift ;;
    -h|--help) sed -n 2,10p "$0"; exit 0 ;;
    *) echo "gpu_check.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
[ -x "$PYTHON" ] || die "python interpreter $PYTHON not found (run scripts/setup.sh first, or set PYTHON)"
command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1 || die "no GPU here (nvidia-smi -L fails)"
gpu_name="$(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader -i "$device")"
[ -n "$dir" ] || dir="$(mktemp -d /tmp/gpu-check.XXXXXX)"
export CAFFE_CUDA_ARCH="${CAFFE_CUDA_ARCH:-90}"
t0="$(date +%s)"
# the same proof as scripts/check_cuda_build.sh, with every core; its report names this machine
PYTHON="$PYTHON" "$ROOT/scripts/check_cuda_build.sh" --dir "$dir" --jobs "$(nproc)" \
  --out "$ROOT/results/cuda_build_gpu_machine.txt" ${source_args[@]+"${source_args[@]}"}
pyc="$(ls -d "$dir"/cache/caffe-bvlc-99bd997-cuda-*/python | head -n 1)"
[ -d "$pyc/caffe" ] || die "no CUDA pycaffe under $dir/cache"
t1="$(date +%s)"
echo "gpu_check.sh: CUDA build took $((t1 - t0)) s; measuring on GPU $device ($gpu_name)" >&2
# The CUDA pycaffe replaces the venv's CPU one for this run only (PYTHONPATH comes before the venv's .pth).
PYTHONPATH="$pyc:$ROOT" "$PYTHON" "$ROOT/scripts/gpu_check.py" --mode gpu --device "$device" --nets full \
  --iterations 20 --device-name "GPU $device: $gpu_name" --out "$ROOT/results/gpu_check.txt"
echo "gpu_check.sh: done in $(( $(date +%s) - t0 )) s (build $((t1 - t0)) s); results/gpu_check.txt" >&2
