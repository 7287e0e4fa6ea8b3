"""The authors' released model imported into our format: lifting speed at batch 100,000 and accuracy on S9.

Protocol (as the issue states it): 300 random S9 frames of ../shared/data/h36m_poses_17j_5fps.npz, exact
weak-perspective projections at random ground-plane angles, P-MPJPE in mm. Speed: frames/s of our vectorised
lifter vs a per-frame reference (one lstsq per frame, angle and component, as the authors' demo does with weights).

    python benchmarks/bench_authors_model.py
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import best_time, machine  # noqa: E402
from reference import reference_lift  # noqa: E402

from lifting.lift import Lifter  # noqa: E402
from lifting.metrics import mpjpe, p_mpjpe  # noqa: E402
from lifting.model import import_authors_model  # noqa: E402
from model_fitting.data import load_h36m_npz  # noqa: E402
from model_fitting.evaluate import project_random  # noqa: E402

SHARED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "data")


def main():
    mat = os.path.join(SHARED, "prob_model_params.mat")
    if not os.path.exists(mat):
        sys.exit(f"shared data not found: {mat}")
    model = import_authors_model(mat)
    poses, _, _ = load_h36m_npz(os.path.join(SHARED, "h36m_poses_17j_5fps.npz"), ["S9"])
    rng = np.random.default_rng(0)
    idx = rng.choice(len(poses), 300, replace=False)
    truth, y = project_random(poses[idx], seed=1)
    print(f"machine: {machine()}")
    for angles in (80, 100):
        res = Lifter(model, num_angles=angles).lift(y)
        print(f"authors' model, {angles} angles: S9 300 frames P-MPJPE {p_mpjpe(res.pose3d_mm, truth).mean():.2f} mm, "
              f"MPJPE {mpjpe(res.pose3d_mm, truth).mean():.2f} mm")
    big = np.tile(y, (334, 1, 1))[:100_000]
    lifter = Lifter(model, num_angles=100)
    lifter.lift(big[:10])
    t = best_time(lambda: lifter.lift(big), repeat=2)
    fps = len(big) / t
    w = np.ones(y.shape[:2])
    nref = 10
    tref = best_time(lambda: reference_lift(model, y[:nref], w[:nref], lifter.angles, lifter.camera), repeat=1)
    print(f"speed (100 angles, K=3, J=25): batch {len(big)}: {fps:,.0f} frames/s; per-frame reference "
          f"{nref / tref:,.1f} frames/s -> ratio {fps / (nref / tref):,.0f}x (the authors' demo: about 40 frames/s)")


if __name__ == "__main__":
    main()
