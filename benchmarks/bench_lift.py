"""Lifting throughput (frames/s) vs a plain per-frame reference (one lstsq per frame, angle and component).

    python benchmarks/bench_lift.py [--quick]

1. The 80-angle grid search (``search="grid"``, the paper's): random K-component models with J = 24 basis poses (the
   size of the shipped model); batches 1, 1,000 and 100,000; full visibility and 2 missing joints per frame.
2. The shipped model (K=3, J=24) with the default search (the exact optimum over the angle), batches 5,000 and
   100,000: all weights 1, and per-joint confidences uniform in [0.5, 1] as weights (what a detector gives), each
   beside the grid search on the same frames in the same run; the grid search with those confidences as it
   was (a factorisation per distinct weight row) on a few hundred frames; and 5% of the joints missing at random
   (0/1 weights and confidences), batch 5,000, the first call of a new lifter, beside the same with a ranking grid
   built for every visibility row (drop_max_joints=0, the way before the downdates).
3. The optimum check: the default search against the 10,000-angle grid on 5,000 poses drawn from the shipped model,
   exact and noisy 2D: mean 3D difference and the share of frames whose cost is within 1e-6 of it (or lower), both
   for the angle series (a weight row shared by >= 4,096 frames of a call, as here) and for the per-frame Newton
   search (smaller batches and continuous weights).
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
from lifting.model import load_model  # noqa: E402
from lifting.synthetic import make_model, sample_poses  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="batch 10,000 instead of 100,000")
    args = ap.parse_args()
    big = 10_000 if args.quick else 100_000
    print(f"machine: {machine()}")
    print(f"load average {os.getloadavg()[0]:.1f} (the machine is shared: compare the ratios)")
    print("1. grid search: 80 angles, J = 24, no refinement; frames/s = best of 3")
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
            lifter = Lifter(model, num_angles=80, search="grid")
            nref = 20 if K == 1 else 5
            tref = best_time(lambda: reference_lift(model, y[:nref], w[:nref], lifter.angles, lifter.camera), repeat=1)
            ref_fps = nref / tref
            for batch in (1, 1000, big):
                lifter.lift(y[:batch], w[:batch])  # warm the per-pattern cache
                t = best_time(lambda: lifter.lift(y[:batch], w[:batch]), repeat=3 if batch < big else 2)
                fps = batch / t
                print(f"{K:>2} {str(missing):>8} {batch:>8} {fps:>12,.0f} {1e3 * t:>10.3f} {ref_fps:>13,.1f} "
                      f"{fps / ref_fps:>8,.0f}x")
    shipped(big)
    optimum_check()


def shipped(big):
    m = load_model()
    canon, _, theta, _ = sample_poses(m, big, seed=3)
    rng = np.random.default_rng(4)
    y = project(rotate_ground(canon, theta), scale=300.0, offset=(500, 400)) + rng.normal(scale=3.0, size=(big, 17, 2))
    conf = rng.uniform(0.5, 1.0, size=(big, 17))
    grid, default = Lifter(m, search="grid"), Lifter(m)
    default.lift(y[:default.series_min_frames])  # builds the angle series of the all-visible row (about 0.3 s, once)
    print(f"2. shipped model (K={m.num_components}, J={m.num_basis}), 80-angle grid vs the default search "
          "(exact optimum); frames/s = best of 2")
    print(f"{'batch':>8} {'grid, w=1':>10} {'default, w=1':>13} {'ratio':>6} {'default, w in [0.5,1]':>22} "
          f"{'ratio to grid w=1':>18} {'to default w=1':>15}")
    for batch in (5000, big):
        grid.lift(y[:100])
        default.lift(y[:1000], conf[:1000])  # builds the ranking grids of the weight levels (see Lifter._optimum)
        tg = best_time(lambda: grid.lift(y[:batch]), repeat=2)
        tu = best_time(lambda: default.lift(y[:batch]), repeat=2)
        tw = best_time(lambda: default.lift(y[:batch], conf[:batch]), repeat=2)
        print(f"{batch:>8} {batch / tg:>10,.0f} {batch / tu:>13,.0f} {tg / tu:>6.2f} {batch / tw:>22,.0f} "
              f"{tg / tw:>18.2f} {tu / tw:>15.2f}")
    n_old = 200
    t_old = best_time(lambda: grid.lift(y[:n_old], conf[:n_old]), repeat=1)
    t_new = best_time(lambda: default.lift(y[:n_old], conf[:n_old]), repeat=2)
    print(f"   w in [0.5,1], {n_old} frames: grid search as it was (a factorisation per row) {n_old / t_old:,.0f} "
          f"frames/s, default {n_old / t_new:,.0f}: {t_old / t_new:,.0f}x")
    # what a detector also gives: missing joints, so that most frames have a visibility row of their own, each
    # ranked by a downdate of the all-visible grid (drop_max_joints=0: each a ranking grid of its own, a few ms)
    n = 5000
    miss = np.random.default_rng(5).random((n, 17)) < 0.05
    tg = best_time(lambda: grid.lift(y[:n]), repeat=2)
    for name, w in (("0/1", (~miss).astype(float)), ("w in [0.5,1]", conf[:n] * ~miss)):
        times = {}
        for drop in (4, 0):
            lifter = Lifter(m, drop_max_joints=drop)  # an empty cache, as a new file's first call
            times[drop] = best_time(lambda: lifter.lift(y[:n], w), repeat=1)
        t = times[4]
        print(f"   5% of joints missing at random ({len(np.unique(miss, axis=0))} visibility rows), {name}, batch {n}: "
              f"{n / t:,.0f} frames/s, {tg / t:.3f} of the grid on w=1 ({n / tg:,.0f}); each row its own ranking "
              f"grid (drop_max_joints=0) {n / times[0]:,.0f}: {times[0] / t:.1f}x")


def optimum_check(n=5000):
    m = load_model()
    canon, _, theta, _ = sample_poses(m, n, seed=0)
    exact = project(rotate_ground(canon, theta), scale=300.0)
    noisy = exact + np.random.default_rng(5).normal(scale=6.0, size=exact.shape)
    print(f"3. default search vs the 10,000-angle grid, shipped model, {n} poses (noisy: 6 px on a ~500 px person)")
    ref_lifter = Lifter(m, num_angles=10000, search="grid")
    searches = (("angle series", Lifter(m, series_min_frames=1)),
                ("per-frame Newton", Lifter(m, series_min_frames=n + 1)))
    for name, y in (("exact 2D", exact), ("noisy 2D", noisy)):
        ref = ref_lifter.lift(y)
        for search, lifter in searches:
            r = lifter.lift(y)
            d3 = np.linalg.norm(r.pose3d_mm - ref.pose3d_mm, axis=-1).mean(-1)
            within = r.cost <= ref.cost * (1 + 1e-6) + 1e-12
            print(f"   {name}, {search}: mean 3D difference {d3.mean():.4f} mm (median {np.median(d3):.4f}, max "
                  f"{d3.max():.3f}); cost within 1e-6 or lower on {100 * within.mean():.2f}% of frames; same component "
                  f"{100 * np.mean(r.component == ref.component):.2f}%")


if __name__ == "__main__":
    main()
