import numpy as np
import pytest

from lifting.geometry import project, rotate_ground
from lifting.lift import STATUS_DEGENERATE, STATUS_NONFINITE, STATUS_OK, STATUS_TOO_FEW_JOINTS, Lifter
from lifting.synthetic import make_model, sample_poses
from tests.helpers import wrap


@pytest.fixture(scope="module")
def model():
    return make_model(K=1, J=4, seed=3)


@pytest.fixture(scope="module")
def data(model):
    canon, a, theta, _ = sample_poses(model, 100, seed=5)
    world = rotate_ground(canon, theta)
    y = project(world, scale=250.0, offset=(320, 240))
    return canon, a, theta, world, y


def test_noise_free_round_trip_grid_then_exact_after_refinement(model, data):
    canon, a, theta, world, y = data
    step = 2 * np.pi / 80
    grid = Lifter(model, num_angles=80, noise_2d=1e-4).lift(y)
    assert np.all(grid.status == STATUS_OK)
    assert np.abs(wrap(grid.angle - theta)).max() <= step  # within the grid step
    ref = Lifter(model, num_angles=80, refine=True, noise_2d=1e-4).lift(y)
    np.testing.assert_allclose(wrap(ref.angle - theta), 0, atol=1e-5)
    np.testing.assert_allclose(ref.coefficients, a, atol=1e-5)
    np.testing.assert_allclose(ref.scale, 250.0, rtol=1e-5)
    np.testing.assert_allclose(ref.pose3d, world - world[:, :1], atol=1e-5)
    np.testing.assert_allclose(ref.reprojected, y, atol=1e-3)
    assert np.all(ref.cost <= grid.cost + 1e-12)  # refinement never increases the cost


def test_translation_and_scale_of_input_do_not_change_result(model, data):
    y = data[4]
    lifter = Lifter(model)
    r1 = lifter.lift(y)
    r2 = lifter.lift(y * 0.137 + np.array([-55.0, 1e4]))
    np.testing.assert_allclose(r2.pose3d, r1.pose3d, atol=1e-9)
    np.testing.assert_allclose(r2.scale, r1.scale * 0.137, rtol=1e-9)
    np.testing.assert_allclose(r2.reprojected, r1.reprojected * 0.137 + np.array([-55.0, 1e4]), atol=1e-6)


def test_missing_joints_are_reconstructed(model, data):
    canon, a, theta, world, y = data
    ym = y.copy()
    ym[:50, 13] = np.nan  # LWrist missing in half the frames
    ym[50:, [3, 16]] = np.nan  # RFoot and RWrist in the other half
    r = Lifter(model, refine=True, noise_2d=1e-4).lift(ym)
    assert np.all(r.status == STATUS_OK)
    np.testing.assert_allclose(r.pose3d, world - world[:, :1], atol=1e-4)
    # the missing joint's reprojection is where the true joint projects
    np.testing.assert_allclose(r.reprojected[:50, 13], y[:50, 13], atol=1e-2)


def test_zero_weight_equals_missing(model, data):
    y = data[4]
    w = np.ones(y.shape[:2])
    w[:, 5] = 0
    ym = y.copy()
    ym[:, 5] = np.nan
    lifter = Lifter(model)
    np.testing.assert_allclose(lifter.lift(y, w).pose3d, lifter.lift(ym).pose3d, atol=1e-10)


def test_mixture_picks_the_generating_component():
    model = make_model(K=3, J=3, seed=11, noise=1e-5)
    canon, a, theta, comp = sample_poses(model, 90, seed=2)
    y = project(rotate_ground(canon, theta), scale=100.0)
    r = Lifter(model, refine=True).lift(y)
    assert np.mean(r.component == comp) > 0.95


def test_exhaustive_and_grid_refined_agree(model, data):
    y = data[4][:20]
    ex = Lifter(model, num_angles=10000).lift(y)
    ex_ref = Lifter(model, num_angles=10000, refine=True).lift(y)
    ref = Lifter(model, num_angles=80, refine=True).lift(y)
    assert np.all(ref.cost <= ex.cost * (1 + 1e-9))  # never worse than the 10,000-angle grid
    np.testing.assert_allclose(ref.cost, ex_ref.cost, rtol=1e-6)
    np.testing.assert_allclose(ref.pose3d, ex_ref.pose3d, atol=1e-5)


def test_bad_frames_get_a_status_and_do_not_kill_the_batch(model, data):
    y = data[4][:5].copy()
    y[1, 4, 0] = np.inf
    w = np.ones((5, 17))
    y[2, :12] = np.nan  # only 5 joints left
    w[2, :12] = 0
    y[3] = 7.0  # all points identical
    r = Lifter(model, min_visible=6).lift(y, w)
    assert r.status.tolist() == [STATUS_OK, STATUS_NONFINITE, STATUS_TOO_FEW_JOINTS, STATUS_DEGENERATE, STATUS_OK]
    assert np.isnan(r.pose3d[1:4]).all() and np.isfinite(r.pose3d[[0, 4]]).all()
    with pytest.raises(ValueError, match="frame 1: non-finite"):
        Lifter(model, min_visible=6).lift(y, w, strict=True)


@pytest.mark.parametrize("shape", [(5, 16, 2), (5, 17, 3), (17,)])
def test_wrong_shapes_are_refused(model, shape):
    with pytest.raises(ValueError, match="points2d must have shape"):
        Lifter(model).lift(np.zeros(shape))


def test_bad_weights_and_camera_are_refused(model, data):
    y = data[4][:3]
    with pytest.raises(ValueError, match="weights must have shape"):
        Lifter(model).lift(y, np.ones((3, 16)))
    with pytest.raises(ValueError, match=">= 0"):
        Lifter(model).lift(y, -np.ones((3, 17)))
    with pytest.raises(ValueError, match="rotation"):
        Lifter(model, camera=np.diag([1.0, 1.0, -1.0]))


def test_a_single_frame_is_lifted_as_its_row_of_a_batch(model, data):
    y = data[4][:7].copy()
    y[3, [2, 9]] = np.nan  # its own visibility pattern
    lifter = Lifter(model)
    batch = lifter.lift(y)
    for i in (0, 3):
        one = lifter.lift(y[i])  # (17, 2) in, a batch of one out
        assert one.pose3d.shape == (1, 17, 3) and one.status.tolist() == [STATUS_OK]
        np.testing.assert_allclose(one.pose3d[0], batch.pose3d[i], atol=1e-12)
        np.testing.assert_allclose(one.reprojected[0], batch.reprojected[i], atol=1e-9)
        assert one.angle[0] == batch.angle[i] and one.component[0] == batch.component[i]
