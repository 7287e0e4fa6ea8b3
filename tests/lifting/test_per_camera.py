"""Lift each frame with its own camera: the one helper behind the lifting layer, image evaluation and lift_views."""
import numpy as np
import pytest

from lifting.cameras import rotate_about_optical_axis
from lifting.geometry import UPRIGHT_CAMERA, project, rotate_ground
from lifting.lift import STATUS_OK, Lifter
from lifting.per_camera import lift_per_camera
from lifting.synthetic import make_model, sample_poses


def test_frames_interleaved_over_two_cameras_equal_one_lifter_per_camera():
    model = make_model(K=1, J=4, seed=3)
    canon, _, theta, _ = sample_poses(model, 6, seed=5)
    y = project(rotate_ground(canon, theta), scale=250.0, offset=(320, 240))
    y[4, 2] = np.nan  # one frame with a missing joint
    y[5] = np.nan  # one frame that cannot be lifted
    tilted = rotate_about_optical_axis(np.asarray(UPRIGHT_CAMERA, np.float64), 30.0)
    cams = np.stack([UPRIGHT_CAMERA, tilted, UPRIGHT_CAMERA, tilted, tilted, UPRIGHT_CAMERA]).reshape(6, 9)
    got = lift_per_camera(model, y, cams, fields=("pose3d_camera_mm", "reprojected", "status", "scale_at_bound"),
                          num_angles=40)
    for cam, rows in ((UPRIGHT_CAMERA, [0, 2, 5]), (tilted, [1, 3, 4])):
        ref = Lifter(model, camera=np.asarray(cam).reshape(3, 3), num_angles=40).lift(y[rows])
        np.testing.assert_array_equal(got["status"][rows], ref.status)
        np.testing.assert_array_equal(got["pose3d_camera_mm"][rows], ref.pose3d_camera_mm)
        np.testing.assert_array_equal(got["reprojected"][rows], ref.reprojected)
        np.testing.assert_array_equal(got["scale_at_bound"][rows], ref.scale_at_bound)
    assert got["status"][5] != STATUS_OK and np.isnan(got["pose3d_camera_mm"][5]).all()
    assert got["status"].dtype == np.int64 and got["scale_at_bound"].dtype == bool
    # the two cameras give different camera-frame poses of the same 2D (the helper did not lift all with one)
    assert not np.allclose(got["pose3d_camera_mm"][0], Lifter(model, camera=tilted, num_angles=40).lift(
        y[:1]).pose3d_camera_mm[0])


def test_unknown_fields_are_named():
    with pytest.raises(ValueError, match=r"unknown fields \['pose2d'\]"):
        lift_per_camera(None, np.zeros((1, 17, 2)), np.eye(3)[None], fields=("pose2d",))
