"""The lifter's angle prior (video continuity, lifting/smoothing.py)."""
import numpy as np

from lifting.geometry import project, rotate_ground
from lifting.lift import Lifter
from lifting.synthetic import make_model, sample_poses
from tests.helpers import wrap


def test_angle_prior_none_nan_or_zero_weight_changes_nothing_and_a_strong_one_holds_the_angle():
    model = make_model(K=2, J=4, seed=3)
    canon, a, theta, _ = sample_poses(model, 20, seed=5)
    y = project(rotate_ground(canon, theta), scale=250.0, offset=(320, 240))
    for search in ("grid", "refine", "optimum"):
        lifter = Lifter(model, search=search)
        free = lifter.lift(y)
        for prior in ((np.full(20, np.nan), 100.0), (np.zeros(20), 0.0)):
            same = lifter.lift(y, angle_prior=prior)
            np.testing.assert_array_equal(same.angle, free.angle)
            np.testing.assert_array_equal(same.pose3d, free.pose3d)
        target = np.radians(np.arange(20) * 17.0)
        held = lifter.lift(y, angle_prior=(target, 1e6))
        # the grid's nearest angle; the refining searches then move within their bracket (one grid step) on the data
        bound = np.pi / 80 if search == "grid" else 3 * np.pi / 80
        assert np.abs(wrap(held.angle - target)).max() <= bound + 1e-9, search
        # a prior at the true angle costs nothing where the data already agree
        at_truth = lifter.lift(y, angle_prior=(theta, 1.0))
        np.testing.assert_allclose(wrap(at_truth.angle - free.angle), 0, atol=2 * np.pi / 80 + 1e-9)
