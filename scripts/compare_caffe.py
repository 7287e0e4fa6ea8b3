"""Numbers of one pycaffe build, to compare two builds (e.g. official BVLC Caffe against another) on the same nets.

    PYTHONPATH=BUILD_A/python python scripts/compare_caffe.py save a.npz [NET ...]
    PYTHONPATH=BUILD_B/python python scripts/compare_caffe.py save b.npz [NET ...]
    python scripts/compare_caffe.py diff a.npz b.npz

``save`` (fixed seeds, CPU): the output blobs of a forward of the full-size extended net and baseline CPM (deploy
prototxts, random weights, a random 368 x 368 input, the upright camera), and the loss and every parameter gradient of
one forward/backward of the small extended train net (Caffe's random seed set, so that its dropout masks are the same
in every run); NET names a subset of those three prototxts. ``diff`` prints, per array, the largest absolute difference
and the largest absolute value (where both are finite; NaN, a failed lift's status, must be NaN in both), and the
worst ratio.
"""
import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
os.environ.setdefault("GLOG_minloglevel", "2")


ALL = ("lifting_h36m_full_deploy", "cpm_h36m_full_deploy", "lifting_h36m_small_train")


def save(path, names=ALL):
    import caffe

    sys.path.insert(0, os.path.join(ROOT, "scripts"))
    from gpu_check import proto, random_inputs

    caffe.set_mode_cpu()
    arrays = {}
    for name in names:
        rng = np.random.default_rng(0)
        caffe.set_random_seed(0)
        net = caffe.Net(proto(name), caffe.TEST if name.endswith("deploy") else caffe.TRAIN)
        for blobs in net.params.values():
            for b in blobs:
                b.data[...] = rng.normal(scale=0.01, size=b.data.shape)
        for k, v in random_inputs(net, rng).items():
            net.blobs[k].data[...] = v
        net.forward()
        for k in net.outputs:
            arrays[f"{name}/{k}"] = net.blobs[k].data.copy()
        if name.endswith("train"):
            net.backward()
            for layer, blobs in net.params.items():
                for i, b in enumerate(blobs):
                    arrays[f"{name}/grad/{layer}/{i}"] = b.diff.copy()
    np.savez(path, **arrays)
    print(f"saved {len(arrays)} arrays from {caffe.__file__} to {path}")


def diff(a_path, b_path):
    a, b = np.load(a_path), np.load(b_path)
    if sorted(a.files) != sorted(b.files):
        print(f"the files hold different arrays: {sorted(set(a.files) ^ set(b.files))}", file=sys.stderr)
        return 2
    sys.path.insert(0, os.path.join(ROOT, "scripts"))
    from gpu_check import compare

    worst, mismatched = 0.0, 0
    for k in sorted(a.files):
        d, s, m = compare(a[k], b[k])
        worst, mismatched = max(worst, d / s if s else d), mismatched + m
        if k.split("/")[1] != "grad" or d or m:
            print(f"{k}: max abs difference {d:.3g} (largest |value| {s:.3g}; non-finite mismatches {m})")
    n_grad = sum(1 for k in a.files if "/grad/" in k)
    print(f"{len(a.files)} arrays ({n_grad} gradients; those that differ are listed); worst relative difference "
          f"{worst:.3g}; non-finite mismatches {mismatched}")
    return 0


def main(argv):
    if len(argv) >= 3 and argv[1] == "save" and set(argv[3:]) <= set(ALL):
        save(argv[2], argv[3:] or ALL)
        return 0
    if len(argv) == 4 and argv[1] == "diff":
        return diff(argv[2], argv[3])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
