import numpy as np
import pytest

from lifting.belief_maps import MapLifter, argmax_2d, background_map, fuse, fuse_gradients, render_belief_maps
from lifting.geometry import project, rotate_ground
from lifting.synthetic import make_model, sample_poses


def test_belief_map_is_a_unit_gaussian_at_the_rounded_joint():
    m = render_belief_maps(np.array([[[10.4, 20.6], [-3.0, 5.0]]]), 46, 40, sigma=1.0)
    assert m.shape == (1, 2, 46, 40) and m.dtype == np.float32
    assert m[0, 0, 21, 10] == 1.0
    assert m[0, 0, 21, 11] == pytest.approx(np.exp(-0.5))
    assert m[0, 0, 22, 11] == pytest.approx(np.exp(-1.0))
    assert m[0, 1].max() == 0  # off the grid -> empty map
    bg = background_map(m)
    assert bg[0, 21, 10] == 0 and bg[0, 0, 0] == pytest.approx(1.0)


def test_argmax_with_subpixel_refinement():
    m = render_belief_maps(np.array([[[12.3, 7.8]]]), 20, 20, sigma=1.5, subpixel=True)
    p, peak = argmax_2d(m)
    np.testing.assert_array_equal(p[0, 0], [12, 8])
    ps, _ = argmax_2d(m, subpixel=True)
    np.testing.assert_allclose(ps[0, 0], [12.3, 7.8], atol=0.05)


@pytest.fixture(scope="module")
def model():
    return make_model(K=1, J=3, seed=21, noise=1e-6)


def test_map_lifter_reads_and_writes_the_given_channels(model):
    canon, _, theta, _ = sample_poses(model, 2, seed=4)
    pts = np.round(project(rotate_ground(canon, theta), scale=20.0, offset=(23, 23)))
    order = np.random.default_rng(0).permutation(20)  # joints scattered over 20 channels, background at order[17]
    maps = np.zeros((2, 20, 46, 46), np.float32)
    maps[:, order[:17]] = render_belief_maps(pts, 46, 46, sigma=1.5)
    core = MapLifter(model, joint_channels=order[:17].tolist(), background_channel=int(order[17]))
    out, pose, reproj = core(maps)
    assert np.abs(reproj - pts).max() < 1.0
    np.testing.assert_array_equal(out[:, order[:17]], render_belief_maps(reproj, 46, 46))
    np.testing.assert_array_equal(out[:, order[17]], background_map(out[:, order[:17]]))
    assert not out[:, order[18:]].any()  # channels it does not own stay empty
    with pytest.raises(ValueError, match="do not fit a bottom with 18 channels"):
        core.check_channels(18)
    with pytest.raises(ValueError, match="must list 17 channels"):
        MapLifter(model, joint_channels=[0, 1])


def test_map_lifter_keeps_the_argmax_where_the_lift_fails(model):
    canon, _, theta, _ = sample_poses(model, 1, seed=5)
    pts = np.round(project(rotate_ground(canon, theta), scale=20.0, offset=(23, 23)))
    maps = np.zeros((2, 17, 46, 46), np.float32)
    maps[0] = render_belief_maps(pts, 46, 46)[0]
    maps[1, :, 30, 12] = 1.0  # every joint at one pixel: degenerate, cannot be lifted
    out, pose, reproj = MapLifter(model, background_channel=None)(maps)
    assert np.isfinite(pose[0]).all() and np.isnan(pose[1]).all()
    np.testing.assert_array_equal(reproj[1], np.tile([12.0, 30.0], (17, 1)))
    np.testing.assert_array_equal(out[1], render_belief_maps(reproj[1:], 46, 46)[0])


def test_fuse_is_eq8_and_its_gradients_match_finite_differences(rng):
    b, b_hat, g = rng.normal(size=(3, 2, 4, 5, 5))
    w = 0.3
    np.testing.assert_allclose(fuse(b, b_hat, w), 0.3 * b + 0.7 * b_hat)
    d_b, d_b_hat, d_w = fuse_gradients(g, b, b_hat, w)
    loss = lambda b_, bh_, w_: np.sum(g * fuse(b_, bh_, w_))  # noqa: E731
    eps = 1e-6
    assert d_w == pytest.approx((loss(b, b_hat, w + eps) - loss(b, b_hat, w - eps)) / (2 * eps), rel=1e-6)
    e = np.zeros_like(b)
    e[1, 2, 3, 4] = eps
    assert d_b[1, 2, 3, 4] == pytest.approx((loss(b + e, b_hat, w) - loss(b - e, b_hat, w)) / (2 * eps), rel=1e-6)
    assert d_b_hat[1, 2, 3, 4] == pytest.approx((loss(b, b_hat + e, w) - loss(b, b_hat - e, w)) / (2 * eps), rel=1e-6)


def test_map_lifter_shares_one_lifter_across_rolls_and_is_exact():
    """Training turns every sample's camera about its optical axis (the image rotation of the augmentation): the
    MapLifter lifts such samples with one precomputed level camera and gets what a Lifter of each turned camera gets."""
    from lifting.cameras import Y_UP_TO_Z_UP, camera_roll, look_at, rotate_about_optical_axis
    from lifting.lift import Lifter

    model = make_model(K=2, J=4, seed=3, noise=1e-4)
    level = look_at([3000.0, -2500.0, 1600.0], [0.0, 0.0, 900.0]) @ Y_UP_TO_Z_UP  # a Human3.6M-like camera
    assert abs(camera_roll(level)) < 1e-9
    canon, _, theta, _ = sample_poses(model, 12, seed=5)
    rolls = np.linspace(-10, 10, 12)
    cams = rotate_about_optical_axis(level, rolls)
    np.testing.assert_allclose(camera_roll(cams), rolls, atol=1e-9)
    pts = np.stack([project(rotate_ground(canon[i:i + 1], theta[i]), cams[i], 9.0, (23, 23))[0] for i in range(12)])
    maps = render_belief_maps(pts, 46, 46, sigma=1.0, subpixel=True)
    core = MapLifter(model, subpixel=True, background_channel=None)
    out, pose, reproj = core(maps, cams.reshape(12, 9).astype(np.float32))
    assert len(core._lifters) == 1
    peaks, _ = argmax_2d(maps, subpixel=True)
    for i in range(12):
        ref = Lifter(model, camera=cams[i]).lift(peaks[i:i + 1])
        np.testing.assert_allclose(pose[i], ref.pose3d_mm[0], atol=1e-3)
        np.testing.assert_allclose(reproj[i], ref.reprojected[0], atol=1e-4)
