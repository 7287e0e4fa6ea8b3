"""Fitting at the paper's scale: 1,000,000 poses built from the real training poses of ../shared/data by random
ground-plane rotation and mirroring; wall time and peak memory of alignment + mixture; and the two rotation
solvers side by side (closed form on all poses vs pyceres, the reference, on a subset).

    python benchmarks/bench_fit.py [--poses 1000000] [-J 24] [-K 3]
"""
import argparse
import os
import resource
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import machine  # noqa: E402

from model_fitting import align  # noqa: E402
from model_fitting.data import augment_rotations, load_h36m_npz  # noqa: E402
from model_fitting.fit import FitConfig, fit, preprocess  # noqa: E402

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "data", "h36m_poses_17j_5fps.npz")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--poses", type=int, default=1_000_000, help="poses after mirroring (default 1,000,000)")
    ap.add_argument("-J", type=int, default=24)
    ap.add_argument("-K", type=int, default=3)
    ap.add_argument("--ceres-subset", type=int, default=2000)
    args = ap.parse_args()
    if not os.path.exists(DATA):
        sys.exit(f"shared data not found: {DATA}")
    train, _, _ = load_h36m_npz(DATA, ["S1", "S5", "S6", "S7", "S8"])
    copies = int(np.ceil(args.poses / 2 / len(train)))
    poses = augment_rotations(train, copies, seed=0)[: args.poses // 2]
    print(f"machine: {machine()}")
    print(f"poses: {len(train)} real training poses x {copies} random ground-plane rotations -> {len(poses)}, "
          f"x2 mirrored -> {2 * len(poses)} fitted; J={args.J}, K<={args.K}")
    t = time.perf_counter()
    model, report, _ = fit(poses, FitConfig(num_basis=args.J, max_components=args.K), progress=True, log=print)
    total = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    tm = report["timings_s"]
    print(f"fit: total {total:.1f} s (alignment {tm['align_s']:.1f} s over {len(report['alignment_objective']) // 2} "
          f"alternations, mixture {tm['mixture_s']:.1f} s over {len(report['em_loglik']) - 1} EM iterations); "
          f"peak memory {peak:.2f} GiB; components {report['component_sizes']}")

    # rotation solvers side by side, same model, same start
    norm, _ = preprocess(poses[: args.ceres_subset * 4], mirror=False)
    P = align.to_vectors(norm)
    theta0 = align.best_rotation_to(P, P.mean(0))
    ppca = align.ppca_step(P, theta0, args.J)
    Pall = align.to_vectors(preprocess(poses, mirror=True)[0])
    th_all = align.best_rotation_to(Pall, P.mean(0))
    t = time.perf_counter()
    align.update_rotations_closed_form(Pall, th_all, *ppca)
    t_cf = time.perf_counter() - t
    sub = P[: args.ceres_subset]
    t = time.perf_counter()
    cf_sub, _ = align.update_rotations_closed_form(sub, theta0[: len(sub)], *ppca)
    t_cf_sub = time.perf_counter() - t
    t = time.perf_counter()
    ce_sub, _ = align.update_rotations_ceres(sub, theta0[: len(sub)], *ppca)
    t_ce = time.perf_counter() - t
    agree = np.mean(np.abs(np.angle(np.exp(1j * (ce_sub - cf_sub)))) < 1e-6)
    print("rotation step (one update of every sample's angle):")
    print(f"  closed form : {len(Pall):>9} poses {t_cf:8.2f} s  ({len(Pall) / t_cf:12,.0f} poses/s)")
    print(f"  closed form : {len(sub):>9} poses {t_cf_sub:8.3f} s  ({len(sub) / t_cf_sub:12,.0f} poses/s)")
    print(f"  pyceres     : {len(sub):>9} poses {t_ce:8.2f} s  ({len(sub) / t_ce:12,.0f} poses/s)"
          f"  -> closed form is {t_ce / t_cf_sub:,.0f}x faster; same angle (1e-6 rad) on {100 * agree:.1f}% "
          "of the subset")


if __name__ == "__main__":
    main()
