import numpy as np
import pytest

from lifting.geometry import rotate_ground
from lifting.smoothing import OneEuroFilter, angle_penalty, facing, facing_flips, mean_displacement, one_euro
from lifting.synthetic import make_model


def test_one_euro_first_step_is_the_hand_worked_alpha():
    """beta 0, min_cutoff 1 Hz, 30 fps: alpha = 1 / (1 + 30 / (2 pi)) = 0.17322; a step 0 -> 1 gives 0.17322."""
    f = OneEuroFilter(min_cutoff=1.0, beta=0.0)
    assert f(np.zeros(2), 0.0).tolist() == [0, 0]
    out = f(np.ones(2), 1 / 30)
    np.testing.assert_allclose(out, 1 / (1 + 30 / (2 * np.pi)), rtol=1e-12)
    # constant input stays put; a faster signal (beta > 0) is followed more closely
    np.testing.assert_allclose(one_euro(np.full((10, 3), 5.0), np.arange(10) / 30), 5.0)
    t = np.arange(30) / 30
    ramp = (100 * t)[:, None]
    lag0 = ramp[-1] - one_euro(ramp, t, beta=0.0)[-1]
    lag1 = ramp[-1] - one_euro(ramp, t, beta=0.1)[-1]
    assert 0 < lag1 < lag0


def test_one_euro_restarts_a_joint_after_a_gap_and_refuses_time_going_back():
    f = OneEuroFilter()
    f(np.array([0.0]), 0.0)
    assert np.isnan(f(np.array([np.nan]), 0.1)[0])
    assert f(np.array([50.0]), 0.2)[0] == 50.0  # the joint reappears: taken as it is, not pulled towards 0
    with pytest.raises(ValueError, match="increase"):
        f(np.array([1.0]), 0.2)


def test_facing_and_flips_of_a_turning_pose():
    m = make_model(K=1, J=4, seed=3)
    base = np.repeat(m.mean[:1], 12, 0)
    angles = np.radians(np.arange(12) * 10.0)
    poses = rotate_ground(base, angles)
    f = facing(poses)
    d = np.degrees(np.angle(np.exp(1j * np.diff(f))))
    np.testing.assert_allclose(d, 10.0, atol=1e-9)  # the facing turns with the ground-plane angle
    assert facing_flips(poses) == 0
    poses[6:] = rotate_ground(poses[6:], np.full(6, np.pi))  # a half turn between frames 5 and 6
    assert facing_flips(poses) == 1
    poses[3] = np.nan
    assert facing_flips(poses) == 1


def test_angle_penalty_and_displacement():
    np.testing.assert_allclose(angle_penalty([0.0, np.pi, np.pi / 2, 1.0], [0.0, 0.0, 0.0, np.nan], 3.0),
                               [0.0, 6.0, 3.0, 0.0], atol=1e-12)
    p = np.zeros((3, 17, 3))
    p[1] += [3.0, 4.0, 0.0]
    assert mean_displacement(p) == pytest.approx(5.0)
