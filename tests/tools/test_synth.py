"""Synthetic training images rendered from real poses."""
import numpy as np

from lifting.belief_maps import argmax_2d
from tools.synth import make_batch


def test_synthetic_labels_peak_at_the_projected_joints(s1_poses):
    b = make_batch(s1_poses, 3, 96, np.random.default_rng(0))
    assert b["data"].shape == (3, 4, 96, 96) and b["label"].shape == (3, 18, 12, 12)
    pts, _ = argmax_2d(b["label"][:, :17])
    expected = (b["joints2d"] - 3.5) / 8
    assert np.abs(pts - expected).max() <= 0.5 + 1e-9
    assert np.all((b["joints2d"] > 0) & (b["joints2d"] < 95))
