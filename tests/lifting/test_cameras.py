"""Human3.6M camera files: the stored convention, proved on the real fixture frames; errors name file and field."""
import json

import numpy as np
import pytest

from lifting.cameras import CameraFileError, pitch_deg, read_h36m_cameras_json
from tests.helpers import shared_path


def test_fixture_frames_stand_on_the_floor_in_the_world():
    z = np.load(shared_path("data", "h36m_fixture", "labels.npz"))
    cams = read_h36m_cameras_json(shared_path("data", "h36m_fixture", "cameras.json"))
    for i in range(len(z["image"])):
        cam = cams[(str(z["subject"][i]), str(z["camera"][i]))]
        X = z["joints3d_camera_m"][i] * 1000
        world = X @ cam.R + cam.T  # R^T X_cam + T
        if "SittingDown" not in z["image"][i]:  # upright: head above pelvis above the feet
            assert world[10, 2] > world[0, 2] > world[[3, 6], 2].max()
        assert world[[3, 6], 2].min() < 150  # the lowest foot within 0.15 m of the floor
        assert np.abs(world[0, :2]).max() < 2500  # inside the capture area
        # and the camera projects the camera-frame labels onto the 2D labels
        assert np.abs(cam.project(X) - z["joints2d_px"][i]).max() < 2.5
        assert np.abs(cam.world_to_camera(world) - X).max() < 1e-6
    for cam in cams.values():
        assert 9 < pitch_deg(cam) < 17
        assert abs(np.degrees(np.arctan2(cam.R[0, 2], -cam.R[1, 2]))) < 6  # no more than 6 degrees of roll


def test_errors_name_file_and_field(tmp_path):
    p = tmp_path / "c.json"
    p.write_text(json.dumps({"S1": {"54138969": {"R": np.eye(3).tolist(), "T_m": [0, 0], "f": [1, 1], "c": [0, 0],
                                                 "k": [0, 0, 0], "p": [0, 0]}}}))
    with pytest.raises(CameraFileError, match=r"c.json: S1/54138969: field 'T_m' must be finite with shape \(3,\)"):
        read_h36m_cameras_json(p)
    p.write_text("{")
    with pytest.raises(CameraFileError, match="not valid JSON"):
        read_h36m_cameras_json(p)
    with pytest.raises(CameraFileError, match="cannot read"):
        read_h36m_cameras_json(tmp_path / "missing.json")
