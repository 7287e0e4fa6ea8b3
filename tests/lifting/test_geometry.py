import numpy as np
import pytest

from lifting import skeleton
from lifting.geometry import (UPRIGHT_CAMERA, ground_rotation, normalise_poses, project, rotate_ground,
                              z_up_to_y_up)


def test_ground_rotation_matches_eq2():
    R = ground_rotation(np.pi / 2)
    np.testing.assert_allclose(R, [[0, 0, 1], [0, 1, 0], [-1, 0, 0]], atol=1e-15)
    Rs = ground_rotation(np.linspace(0, 6, 7))
    assert Rs.shape == (7, 3, 3)
    np.testing.assert_allclose(Rs @ Rs.transpose(0, 2, 1), np.broadcast_to(np.eye(3), Rs.shape), atol=1e-15)
    np.testing.assert_allclose(np.linalg.det(Rs), 1.0)


def test_rotate_ground_is_the_matrix_product_and_its_inverse(rng):
    poses = rng.normal(size=(5, 17, 3))
    theta = rng.uniform(0, 2 * np.pi, 5)
    expected = np.einsum("nij,nlj->nli", ground_rotation(theta), poses)
    np.testing.assert_allclose(rotate_ground(poses, theta), expected, atol=1e-14)
    np.testing.assert_allclose(rotate_ground(expected, theta, inverse=True), poses, atol=1e-14)
    # one angle for all poses, and the (N, 48) vector layout of the fitting code
    np.testing.assert_allclose(rotate_ground(poses, 0.3), np.einsum("ij,nlj->nli", ground_rotation(0.3), poses),
                               atol=1e-14)
    assert rotate_ground(poses[:, 1:].reshape(5, 16, 3), theta).shape == (5, 16, 3)
    # the height (y) is untouched and the input is not modified
    before = poses.copy()
    np.testing.assert_array_equal(rotate_ground(poses, theta)[..., 1], poses[..., 1])
    np.testing.assert_array_equal(poses, before)


def test_project_weak_perspective_with_camera_scale_and_offset():
    p = np.zeros((2, 17, 3))
    p[:, 10] = [1.0, 2.0, 3.0]  # head: right, up, towards world +z
    y = project(p, UPRIGHT_CAMERA, scale=np.array([10.0, 2.0]), offset=(100, 50))
    assert y.shape == (2, 17, 2)
    np.testing.assert_allclose(y[0, 10], [110.0, 30.0])  # up in the world is up in the image (smaller row)
    np.testing.assert_allclose(y[1, 10], [102.0, 46.0])
    np.testing.assert_allclose(y[:, 0], [[100, 50], [100, 50]])
    # a camera turned about the vertical sees what the upright camera sees of the turned pose (eqs. 2 and 6)
    np.testing.assert_allclose(project(p, UPRIGHT_CAMERA @ ground_rotation(0.7)), project(rotate_ground(p, 0.7)),
                               atol=1e-14)


def test_z_up_to_y_up_is_a_rotation_that_turns_z_into_y():
    up = z_up_to_y_up(np.array([0.0, 0.0, 1.0]))
    np.testing.assert_allclose(up, [0, 1, 0])
    M = z_up_to_y_up(np.eye(3)).T  # columns: images of the basis vectors
    np.testing.assert_allclose(M @ M.T, np.eye(3), atol=1e-15)
    assert np.linalg.det(M) == pytest.approx(1.0)  # no mirror: a real body stays one


def test_normalise_poses_root_centres_and_scales(rng):
    poses = rng.normal(size=(4, 17, 3)) * 300 + 1000
    norm, scale = normalise_poses(poses)
    np.testing.assert_allclose(norm[:, 0], 0, atol=1e-12)
    np.testing.assert_allclose(skeleton.limb_scale(norm), 1.0)
    np.testing.assert_allclose(norm * scale[:, None, None], poses - poses[:, :1], atol=1e-9)
    with pytest.raises(ValueError, match=r"poses \[1\] have a non-finite or zero limb scale"):
        normalise_poses(np.stack([poses[0], np.zeros((17, 3))]))
