"""Lifting throughput (frames/s) vs a plain per-frame reference (one lstsq per frame, angle and component).

    python benchmarks/bench_lift.py [--quick]

Model: random K-component models with J = 24 basis poses (the size of the shipped model); 80 angles; batches 1, 1,000
and 100,000; full visibility and 2 missing joints per frame.
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import best_time, machine  # noqa: E402
from reference import reference_lift  # noqa: E402

from lifting.geometry import project, rotate_ground  # noqa: E402
from lifting.lift import Lifter  # noqa: E402
from lifting.synthetic import make_model, sample_poses  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="batch 10,000 instead of 100,000")
    args = ap.parse_args()
    big = 10_000 if args.quick else 100_000
    print(f"machine: {machine()}")
    print("lifting: 80 angles, J = 24, no refinement; frames/s = best of 3")
    print(f"{'K':>2} {'missing':>8} {'batch':>8} {'frames/s':>12} {'ms/batch':>10} {'ref frames/s':>13} {'ratio':>8}")
    for K in (1, 4):
        model = make_model(K=K, J=24, seed=1)
        canon, a, theta, _ = sample_poses(model, big, seed=2)
        y = project(rotate_ground(canon, theta), scale=200.0, offset=(300, 300))
        rng = np.random.default_rng(0)
        for missing in (False, True):
            w = np.ones(y.shape[:2])
            if missing:
                for f in range(len(w)):
                    w[f, rng.choice(17, 2, replace=False)] = 0
            lifter = Lifter(model, num_angles=80)
            nref = 20 if K == 1 else 5
            tref = best_time(lambda: reference_lift(model, y[:nref], w[:nref], lifter.angles, lifter.camera), repeat=1)
            ref_fps = nref / tref
            for batch in (1, 1000, big):
                lifter.lift(y[:batch], w[:batch])  # warm the per-pattern cache
                t = best_time(lambda: lifter.lift(y[:batch], w[:batch]), repeat=3 if batch < big else 2)
                fps = batch / t
                print(f"{K:>2} {str(missing):>8} {batch:>8} {fps:>12,.0f} {1e3 * t:>10.3f} {ref_fps:>13,.1f} "
                      f"{fps / ref_fps:>8,.0f}x")


if __name__ == "__main__":
    main()
