import numpy as np
import pytest

from lifting import metrics


def test_mpjpe_hand_worked():
    gt = np.zeros((1, 2, 3))
    gt[0, 1] = [1, 0, 0]
    pred = gt.copy()
    pred[0, 1] = [1, 3, 4]  # 5 mm off; root exact
    assert metrics.mpjpe(pred, gt)[0] == pytest.approx(2.5)
    pred2 = pred + 10.0  # a global translation is removed by the root alignment
    assert metrics.mpjpe(pred2, gt)[0] == pytest.approx(2.5)
    assert metrics.mpjpe(pred2, gt, root=None)[0] > 10


def test_procrustes_recovers_a_known_similarity(rng):
    gt = rng.normal(size=(4, 17, 3))
    a = 0.7
    R = np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])
    pred = (gt @ R.T) * 0.5 + np.array([1.0, -2.0, 3.0])  # pred = 0.5 R gt + t
    aligned, Rh, s, t = metrics.procrustes_align(pred, gt)
    np.testing.assert_allclose(aligned, gt, atol=1e-10)
    np.testing.assert_allclose(s, 2.0, rtol=1e-10)
    np.testing.assert_allclose(Rh, np.broadcast_to(R.T, Rh.shape), atol=1e-10)
    np.testing.assert_allclose(metrics.p_mpjpe(pred, gt), 0, atol=1e-10)


def test_procrustes_refuses_a_reflection(rng):
    gt = rng.normal(size=(3, 17, 3))
    mirrored = gt * np.array([-1.0, 1.0, 1.0])
    assert np.all(metrics.p_mpjpe(mirrored, gt) > 0.1)
    np.testing.assert_allclose(metrics.p_mpjpe(mirrored, gt, allow_reflection=True), 0, atol=1e-10)
    _, R, _, _ = metrics.procrustes_align(mirrored, gt)
    np.testing.assert_allclose(np.linalg.det(R), 1.0)


def test_n_mpjpe_removes_scale_only(rng):
    gt = rng.normal(size=(2, 17, 3))
    np.testing.assert_allclose(metrics.n_mpjpe(3 * gt, gt), 0, atol=1e-12)
    swapped = gt[..., [1, 0, 2]]  # a rotation/reflection is not a scale
    assert np.all(metrics.n_mpjpe(swapped, gt) > 0.1)


def test_pixel_error_with_weights():
    gt = np.zeros((1, 3, 2))
    pred = np.array([[[3, 4], [0, 0], [100, 0]]], float)
    assert metrics.pixel_error(pred, gt)[0] == pytest.approx(35.0)
    assert metrics.pixel_error(pred, gt, weights=np.array([[1, 1, 0]]))[0] == pytest.approx(2.5)


def test_per_action_means():
    table, action_mean, frame_mean = metrics.per_action([1, 1, 1, 4],
                                                        ["walking_1", "walking_2", "Walking", "WalkDog 1"])
    assert table == {"walking": (1.0, 3), "walkingdog": (4.0, 1)}
    assert list(table) == ["walkingdog", "walking"]  # the paper's Table 1 order: Walk Dog before Walking
    assert action_mean == pytest.approx(2.5) and frame_mean == pytest.approx(1.75)


def test_shape_errors():
    with pytest.raises(ValueError, match="same shape"):
        metrics.mpjpe(np.zeros((2, 17, 3)), np.zeros((2, 16, 3)))
