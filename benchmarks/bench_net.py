"""Forward time of the full-size extended net vs the baseline CPM (same definition without the 3D layers),
368 x 368, batch 1, random weights, on this CPU; plus the time spent in the Prob3D + Fusion layers themselves.

    python benchmarks/bench_net.py [--repeat 2]
"""
import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import machine  # noqa: E402

os.environ.setdefault("GLOG_minloglevel", "2")
import caffe  # noqa: E402

from lifting.geometry import UPRIGHT_CAMERA  # noqa: E402
from prototxt import generate  # noqa: E402


def timed_forward(net, repeat):
    net.forward()  # warm-up (allocation, lazy set-up)
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        net.forward()
        best = min(best, time.perf_counter() - t)
    return best


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    caffe.set_mode_cpu()
    rng = np.random.default_rng(0)
    data = rng.random((1, 4, 368, 368)).astype(np.float32) - 0.5
    base = caffe.Net(os.path.join(generate.HERE, "cpm_h36m_full_deploy.prototxt"), caffe.TEST)
    ext = caffe.Net(os.path.join(generate.HERE, "lifting_h36m_full_deploy.prototxt"), caffe.TEST)
    for name, blobs in base.params.items():  # same random weights in both nets
        for i, b in enumerate(blobs):
            b.data[...] = rng.normal(scale=0.01, size=b.data.shape)
            ext.params[name][i].data[...] = b.data
    base.blobs["data"].data[...] = data
    ext.blobs["data"].data[...] = data
    ext.blobs["camera"].data[...] = UPRIGHT_CAMERA.reshape(1, 9)
    print(f"machine: {machine()}; batch 1, 368 x 368, CPU, best of {args.repeat} after a warm-up")
    t_base = timed_forward(base, args.repeat)
    t_ext = timed_forward(ext, args.repeat)
    # the new layers alone, run layer by layer inside the extended net
    names = list(ext._layer_names)
    new = [n for n in names if n.startswith(("probmodel_stage", "merge_hm_stage"))]
    t_new = 0.0
    for n in new:
        best = float("inf")
        for _ in range(5):
            t = time.perf_counter()
            ext.forward(start=n, end=n)
            best = min(best, time.perf_counter() - t)
        t_new += best
    print(f"baseline CPM (17 joints + bkg, 6 stages): {t_base:8.3f} s")
    print(f"extended net (Prob3D + Fusion x5, final lift): {t_ext:8.3f} s  (ratio {t_ext / t_base:.4f})")
    print(f"time inside the {len(new)} new layers: {1e3 * t_new:8.2f} ms = {100 * t_new / t_base:.3f}% of the baseline")


if __name__ == "__main__":
    main()
