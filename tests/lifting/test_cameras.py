"""Human3.6M camera files: the stored convention, proved on the real fixture frames, in both layouts (the fixture's
JSON and the Martinez et al. ``cameras.h5``); errors name file and field."""
import json

import h5py
import numpy as np
import pytest

from lifting.cameras import (CameraFileError, pitch_deg, read_h36m_cameras, read_h36m_cameras_h5,
                             read_h36m_cameras_json, rotate_about_optical_axis)
from model_fitting.miniature import write_martinez_h5
from tests.helpers import shared_path

FIXTURE_CAMERAS = ("data", "h36m_fixture", "cameras.json")


@pytest.fixture(scope="module")
def json_cameras():
    return read_h36m_cameras_json(shared_path(*FIXTURE_CAMERAS))


@pytest.fixture(scope="module")
def h5_path(tmp_path_factory, json_cameras):
    path = tmp_path_factory.mktemp("cams") / "cameras.h5"
    write_martinez_h5(path, json_cameras)
    return path


@pytest.mark.parametrize("layout", ["json", "h5"])
def test_fixture_frames_stand_on_the_floor_in_the_world(layout, h5_path):
    z = np.load(shared_path("data", "h36m_fixture", "labels.npz"))
    cams = read_h36m_cameras(shared_path(*FIXTURE_CAMERAS) if layout == "json" else h5_path)
    assert len(cams) == 44
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


def test_h5_layout_reads_the_same_cameras_as_the_json(json_cameras, h5_path):
    h5 = read_h36m_cameras_h5(h5_path)
    assert set(h5) == set(json_cameras)
    for key, cam in json_cameras.items():
        other = h5[key]
        for field in ("R", "T", "f", "c", "k", "p"):
            np.testing.assert_allclose(getattr(other, field), getattr(cam, field), rtol=0, atol=1e-12)
        assert (other.width, other.height) == (cam.width, cam.height)
        np.testing.assert_allclose(other.E, cam.E, atol=1e-12)


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
    with pytest.raises(CameraFileError, match="unknown camera file type '.txt'"):
        read_h36m_cameras(tmp_path / "cams.txt")


def test_h5_errors_name_file_and_field(tmp_path, json_cameras):
    one = {("S1", "54138969"): json_cameras[("S1", "54138969")]}
    path = tmp_path / "cameras.h5"
    write_martinez_h5(path, one)
    with h5py.File(path, "a") as f:
        del f["subject1/camera1/Name"]
    with pytest.raises(CameraFileError, match=r"cameras.h5: subject1/camera1: field 'Name' is missing"):
        read_h36m_cameras_h5(path)
    write_martinez_h5(path, one)
    with h5py.File(path, "a") as f:
        f["subject1/camera1/R"][...] = 2 * np.eye(3)
    with pytest.raises(CameraFileError, match=r"subject1/camera1: field 'R' is not a rotation"):
        read_h36m_cameras_h5(path)
    write_martinez_h5(path, one)
    with h5py.File(path, "a") as f:
        del f["subject1/camera1/T"]
        f["subject1/camera1/T"] = np.zeros(2)
    with pytest.raises(CameraFileError, match=r"subject1/camera1: field 'T' must hold 3 finite values"):
        read_h36m_cameras_h5(path)
    (tmp_path / "junk.h5").write_bytes(b"not hdf5")
    with pytest.raises(CameraFileError, match="junk.h5: not a readable HDF5 camera file"):
        read_h36m_cameras_h5(tmp_path / "junk.h5")
    with h5py.File(tmp_path / "empty.h5", "w"):
        pass
    with pytest.raises(CameraFileError, match="no group 'subject<n>'"):
        read_h36m_cameras_h5(tmp_path / "empty.h5")


def test_image_rotation_is_a_camera_rotation_about_the_optical_axis(json_cameras, s1_poses):
    """Rotating the image of a weak-perspective projection with OpenCV's rotation matrix gives the projection by the
    rotated camera (up to the translation), for both signs of the angle; the unrotated camera does not."""
    import cv2

    E = json_cameras[("S1", "54138969")].E
    X = s1_poses[:5]
    y = np.einsum("ij,nlj->nli", E[:2], X)
    for deg in (7.0, -10.0):
        M = cv2.getRotationMatrix2D((300.0, 200.0), deg, 1.0)
        y_rot = y @ M[:, :2].T + M[:, 2]
        y_cam = np.einsum("ij,nlj->nli", rotate_about_optical_axis(E, deg)[:2], X)
        d = y_rot - y_cam
        np.testing.assert_allclose(d - d[:, :1], 0, atol=1e-9)
        d0 = y_rot - y
        assert np.abs(d0 - d0[:, :1]).max() > 20  # without rotating E the joints are off by centimetres
