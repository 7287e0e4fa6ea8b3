"""GPU devices for Caffe: ``--gpu`` parsed, and each requested GPU probed in a child process before any work (shared
by training and evaluation, so that evaluation does not import the training module).
"""
from __future__ import annotations

import os
import subprocess
import sys

BUILD_HINT = ("build Caffe with CUDA and NCCL: `scripts/setup.sh --cuda` with nvcc on PATH or CUDA_HOME set "
              "(`scripts/cuda_toolkit.sh DIR` installs the pinned toolkit from PyPI, printing CUDA_HOME and NCCL_DIR), "
              "or use the CUDA Docker image (README, \"GPU image\")")


class DeviceError(ValueError):
    """A requested GPU cannot be used; the message says why and what to do."""


def probe_gpus(gpus):
    """Check in a child process (a failed CUDA call aborts the process that makes it) that this pycaffe can use every
    GPU of ``gpus`` and, for several, has NCCL; raise DeviceError naming the problem: a CPU-only build, a build without
    NCCL, or a GPU that is not there."""
    code = ("import caffe, sys\ncaffe.set_mode_gpu()\nfor g in sys.argv[1:]:\n    caffe.set_device(int(g))\n"
            "print('has_nccl', caffe.has_nccl())\n")
    env = {**os.environ, "GLOG_minloglevel": "2"}
    r = subprocess.run([sys.executable, "-c", code, *map(str, gpus)], capture_output=True, text=True, env=env,
                       timeout=300)
    ids = ",".join(map(str, gpus))
    if r.returncode == 0:
        if len(gpus) > 1 and "has_nccl True" not in r.stdout:
            raise DeviceError(f"--gpu {ids}: this Caffe was built without NCCL, which training on several GPUs uses; "
                              f"{BUILD_HINT}")
        return
    err = r.stderr.strip().splitlines()
    if "CPU-only Caffe" in r.stderr:
        raise DeviceError(f"--gpu {ids}: this Caffe was built CPU-only; {BUILD_HINT}")
    detail = next((ln for ln in err if "Check failed" in ln or "error" in ln.lower()), err[-1] if err else "")
    raise DeviceError(f"--gpu {ids}: Caffe cannot use these GPUs ({detail.strip()})")


def parse_gpus(text):
    """``"0"`` / ``"0,1,3"`` -> ``[0, 1, 3]``; duplicates and negative ids are refused."""
    try:
        gpus = [int(v) for v in str(text).split(",") if v.strip() != ""]
    except ValueError:
        raise ValueError(f"--gpu: expected GPU ids like 0 or 0,1; got {text!r}") from None
    if not gpus or min(gpus) < 0 or len(set(gpus)) != len(gpus):
        raise ValueError(f"--gpu: expected distinct GPU ids >= 0 like 0 or 0,1; got {text!r}")
    return gpus
