"""Speed of the bounded-scale lifter (issue 10) against the unbounded lifter it replaced, in the same process.

    python benchmarks/bench_bounded.py [--batch 20000] [--repeat 5]

The reference is the package ``lifting`` of commit 7d93560 (the last one before the bounded scale), taken from this
repository's history with ``git archive`` into a temporary folder and imported as ``lifting_unbounded``; both lift
the same poses from the same model (K = 1 and K = 4, J = 24, 80 angles, full visibility). Runs alternate between the
two lifters; frames/s = best of ``--repeat``.
"""
import argparse
import io
import os
import subprocess
import sys
import tarfile
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import machine  # noqa: E402

from lifting.geometry import UPRIGHT_CAMERA, project, rotate_ground  # noqa: E402
from lifting.lift import Lifter  # noqa: E402
from lifting.synthetic import make_model, sample_poses  # noqa: E402

REFERENCE_COMMIT = "7d93560"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def unbounded_lifting():
    """Import the reference commit's ``lifting`` package as ``lifting_unbounded``."""
    tmp = tempfile.mkdtemp(prefix="bench-bounded-")
    try:
        tar = subprocess.run(["git", "-C", ROOT, "archive", REFERENCE_COMMIT, "lifting"], check=True,
                             capture_output=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        raise SystemExit(f"bench_bounded: needs git and this repository's history (commit {REFERENCE_COMMIT}): {e}")
    with tarfile.open(fileobj=io.BytesIO(tar)) as t:
        t.extractall(tmp, filter="data")
    os.rename(os.path.join(tmp, "lifting"), os.path.join(tmp, "lifting_unbounded"))
    sys.path.insert(0, tmp)
    import lifting_unbounded.lift as old
    import lifting_unbounded.model as old_model

    return old, old_model


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--batch", type=int, default=20000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    old, old_model = unbounded_lifting()
    print(f"machine: {machine()}")
    print(f"bounded lifter (this tree) vs unbounded lifter (commit {REFERENCE_COMMIT}); J = 24, 80 angles, batch "
          f"{args.batch}, best of {args.repeat}, alternating runs")
    for K in (1, 4):
        model = make_model(K=K, J=24, seed=1)
        canon, _, theta, _ = sample_poses(model, args.batch, seed=2)
        y = project(rotate_ground(canon, theta), UPRIGHT_CAMERA, scale=200.0, offset=(300, 300))
        ref_model = old_model.PoseModel(model.mean, model.basis, model.variances, model.noise_variance,
                                        model.weights, mm_per_unit=model.mm_per_unit)
        new, ref = Lifter(model, num_angles=80), old.Lifter(ref_model, num_angles=80)
        new.lift(y), ref.lift(y)  # warm the per-pattern caches
        best = {"bounded": float("inf"), "unbounded": float("inf")}
        for _ in range(args.repeat):
            for name, lifter in (("bounded", new), ("unbounded", ref)):
                t = time.perf_counter()
                lifter.lift(y)
                best[name] = min(best[name], time.perf_counter() - t)
        fps = {k: args.batch / v for k, v in best.items()}
        print(f"K={K}: bounded {fps['bounded']:,.0f} frames/s, unbounded {fps['unbounded']:,.0f} frames/s, "
              f"ratio {fps['bounded'] / fps['unbounded']:.3f}")


if __name__ == "__main__":
    main()
