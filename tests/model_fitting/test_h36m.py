"""The official Human3.6M layout: readers, and `h36m-prepare` on a miniature release made from the real fixture
(model_fitting/miniature.py): crops and labels agree with the cameras and the real frames, known defects are skipped by
name,
a short video is used to its end and said so, an interrupted run finishes to the same dataset, bad inputs are named."""
import os
import shutil

import cv2
import h5py
import numpy as np
import pytest

from lifting.cpm import apply_affine
from lifting.dataset import DatasetError, PreparedDataset
from model_fitting import prepare as prepare_module
from model_fitting.h36m import Sequence, find_sequences, read_d2, read_d3, read_video_frames
from model_fitting.prepare import PrepareError, crop_person, person_box, prepare
from model_fitting.readers import MotionFileError
from model_fitting.miniature import write_martinez_h5, write_pose_cdf
from tests.helpers import shared_path

CAMERAS_JSON = ("data", "h36m_fixture", "cameras.json")


def test_person_box_is_the_fixture_convention():
    z = np.load(shared_path("data", "h36m_fixture", "labels.npz"))
    for j2d, centre, scale in zip(z["joints2d_px"], z["center_px"], z["scale"]):
        c, side = person_box(j2d)
        np.testing.assert_allclose(c, centre, atol=0.01)
        assert side == pytest.approx(200 * scale, abs=0.01)


def test_readers_of_the_official_layout(official_tree, tmp_path):
    root, cams, z = official_tree
    seqs, skipped = find_sequences(root, ["S1", "S5"])
    assert [(s.subject, s.name, s.action, s.subaction) for s in seqs] == [
        ("S1", "Directions 1", "directions", 1), ("S5", "SittingDown", "sittingdown", 0)]
    assert skipped == []
    s1 = seqs[0]
    world = read_d3(s1.pose_path(root, "D3_Positions"))
    mono = read_d3(s1.pose_path(root, "D3_Positions_mono", "54138969"))
    d2 = read_d2(s1.pose_path(root, "D2_Positions", "54138969"))
    assert world.shape == mono.shape == (11, 17, 3) and d2.shape == (11, 17, 2)
    np.testing.assert_allclose(mono[0], z["joints3d_camera_m"][0] * 1000, atol=0.01)  # float32 CDF
    np.testing.assert_allclose(d2[0], z["joints2d_px"][0], atol=3.0)  # the fixture's 2D ignores distortion
    got = dict(read_video_frames(s1.video_path(root, "54138969"), [10, 0, 5, 40]))
    assert sorted(got) == [0, 5, 10]  # the video has 11 frames: 40 does not come
    real = cv2.imread(shared_path("data", "h36m_fixture", "images", str(z["image"][0])))
    assert got[0].shape == real.shape and np.abs(got[0].astype(int) - real).mean() < 6  # mp4v is lossy
    # names that are no action are skipped by name
    other = tmp_path / "root"
    shutil.copytree(os.path.join(root, "S5"), other / "S5")
    write_pose_cdf(other / "S5" / "MyPoseFeatures" / "D3_Positions" / "_ALL 1.cdf", np.zeros((2, 96)))
    seqs, skipped = find_sequences(other, ["S5"])
    assert len(seqs) == 1 and skipped == [("S5/_ALL 1.cdf", "not a Human3.6M action name")]


def test_prepared_samples_agree_with_cameras_and_frames(official_tree, prepared_h36m):
    root, cams, z = official_tree
    d = PreparedDataset(prepared_h36m)
    summary = d.manifest["summary"]
    # S1 and S5: 4 cameras x 3 samples, less 1 for the short video; S11: 3 cameras (the defect skipped)
    assert len(d) == summary["samples"] == 11 + 12 + 9
    assert summary["samples_per_subject_action"] == {"S1": {"directions": 11}, "S11": {"directions": 9},
                                                     "S5": {"sittingdown": 12}}
    assert summary["skipped"] == [["S11 Directions.54138969",
                                   "known defect of the official release: the video is corrupt"]]
    assert len(summary["notes"]) == 1 and "Directions 1.60457274: the video ends before pose frame 10" in \
        summary["notes"][0]
    real = cv2.imread(shared_path("data", "h36m_fixture", "images", str(z["image"][0])))
    for i in range(len(d)):
        s, m = d.sample(i), d.meta(i)
        cam = cams[(m["subject"], m["camera"])]
        np.testing.assert_allclose(s["E"], cam.E)
        scale, ox, oy = m["crop_transform"]
        px = cam.project(m["joints3d_camera_mm"].astype(np.float64), distort=True) * scale + [ox, oy]
        np.testing.assert_allclose(s["joints2d"], px, atol=0.02)  # the 2D labels are the camera's view of the 3D
        np.testing.assert_allclose(s["objpos"], s["joints2d"][0], atol=1e-3)  # centred on the pelvis
        assert s["box"] == pytest.approx(0.8 * 368, abs=1e-3) and s["visible"].all()
        if (m["subject"], m["camera"], m["frame"]) == ("S1", "54138969", 0):  # the real frame, cropped
            crop = cv2.imdecode(np.frombuffer(s["jpeg"], np.uint8), cv2.IMREAD_COLOR)
            M = np.array([[scale, 0, ox], [0, scale, oy]])
            ref = cv2.warpAffine(real, M, crop.shape[1::-1], borderValue=(128, 128, 128))
            assert np.abs(crop.astype(int) - ref).mean() < 6
            np.testing.assert_allclose(apply_affine(M, z["joints2d_px"][0]), s["joints2d"], atol=3 * scale)


def test_interrupted_prepare_finishes_to_the_same_dataset(official_tree, prepared_h36m, tmp_path, monkeypatch):
    root = official_tree[0]
    cams = shared_path(*CAMERAS_JSON)
    real = prepare_module.prepare_sequence
    calls = []

    def interrupted(*args, **kwargs):
        calls.append(args[1].name)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(prepare_module, "prepare_sequence", interrupted)
    out = tmp_path / "again"
    with pytest.raises(KeyboardInterrupt):
        prepare(root, str(out), cams, subjects=["S1", "S5", "S11"], crop="extent", log=None)
    with pytest.raises(DatasetError, match="incomplete"):
        PreparedDataset(out)
    assert len(list((out / "shards").rglob("*.h5"))) == 1 and not list(out.rglob("*.tmp"))
    monkeypatch.setattr(prepare_module, "prepare_sequence", real)
    calls.clear()
    prepare(root, str(out), cams, subjects=["S1", "S5", "S11"], crop="extent", log=None)
    a, b = PreparedDataset(prepared_h36m), PreparedDataset(out)
    assert a.manifest["summary"] == b.manifest["summary"] and len(a) == len(b)
    for i in range(len(a)):
        sa, sb = a.sample(i), b.sample(i)
        assert sa["jpeg"] == sb["jpeg"]
        for key in ("joints2d", "visible", "objpos", "E"):
            np.testing.assert_array_equal(sa[key], sb[key])
    with pytest.raises(PrepareError, match="prepared with other settings"):
        prepare(root, str(out), cams, subjects=["S1", "S5", "S11"], step=2, log=None)


def test_martinez_cameras_prepare_the_same_labels(official_tree, tmp_path):
    root, cams, _ = official_tree
    h5 = tmp_path / "cameras.h5"
    write_martinez_h5(h5, cams)
    prepare(root, str(tmp_path / "d"), str(h5), subjects=["S5"], log=None)
    d = PreparedDataset(tmp_path / "d")
    assert len(d) == 12
    np.testing.assert_allclose(d.sample(0)["E"], cams[("S5", "54138969")].E, atol=1e-12)


@pytest.fixture
def tree_copy(official_tree, tmp_path):
    root = tmp_path / "release"
    shutil.copytree(os.path.join(official_tree[0], "S5"), root / "S5")
    return root


def test_bad_inputs_are_named(tree_copy, tmp_path, official_tree):
    cams = shared_path(*CAMERAS_JSON)
    seq = Sequence("S5", "SittingDown", "sittingdown", 0)
    out = str(tmp_path / "out")
    d2 = seq.pose_path(tree_copy, "D2_Positions", "55011271")
    with open(d2, "r+b") as f:
        f.truncate(300)
    with pytest.raises(MotionFileError, match=r"D2_Positions/SittingDown.55011271.cdf: not a readable CDF"):
        prepare(tree_copy, out, cams, subjects=["S5"], log=None)
    write_pose_cdf(d2, np.zeros((11, 60)))
    with pytest.raises(MotionFileError, match=r"SittingDown.55011271.cdf: variable 'Pose' must hold 64 values"):
        prepare(tree_copy, out, cams, subjects=["S5"], log=None)
    shutil.copy(seq.pose_path(official_tree[0], "D2_Positions", "55011271"), d2)
    video = seq.video_path(tree_copy, "58860488")
    with open(video, "wb") as f:
        f.write(b"garbage" * 100)
    with pytest.raises(MotionFileError, match=r"Videos/SittingDown.58860488.mp4: cannot open the video"):
        prepare(tree_copy, out, cams, subjects=["S5"], log=None)
    os.unlink(video)
    with pytest.raises(MotionFileError, match=r"SittingDown.58860488.mp4: no such video"):
        prepare(tree_copy, out, cams, subjects=["S5"], log=None)
    shutil.copy(seq.video_path(official_tree[0], "58860488"), video)
    # another subject's cameras: the 2D is not their projection of the 3D
    wrong = tmp_path / "wrong.h5"
    write_martinez_h5(wrong, {("S5", cid): cam for (s, cid), cam in official_tree[1].items() if s == "S9"})
    with pytest.raises(PrepareError, match=r"D3_Positions_mono/SittingDown.54138969.cdf is not .* seen by camera "
                                           r"S5/54138969 of .*wrong.h5"):
        prepare(tree_copy, out, str(wrong), subjects=["S5"], log=None)
    with h5py.File(wrong, "a") as f:
        del f["subject5/camera2"]
    write_martinez_h5(wrong, {("S5", "54138969"): official_tree[1][("S5", "54138969")]})
    with pytest.raises(PrepareError, match=r"wrong.h5: no camera S5/55011271"):
        prepare(tree_copy, out, str(wrong), subjects=["S5"], log=None)
    with pytest.raises(MotionFileError, match="folder of subject S6 not found"):
        prepare(tree_copy, out, cams, subjects=["S6"], log=None)
    assert not os.path.exists(os.path.join(out, "shards", "S5", "SittingDown.h5"))  # nothing half-written


def test_crop_keeps_the_frame_and_pads_grey():
    frame = np.zeros((300, 300, 3), np.uint8)
    frame[10:30, 10:30] = 255
    joints = np.array([[20.0, 20.0]] + [[20.0 + 10 * np.cos(a), 20 + 20 * np.sin(a)] for a in range(16)])
    crop, M, box = crop_person(frame, joints, 2.1)
    assert crop.shape == (618, 618, 3) and box == pytest.approx(294.4)
    c = apply_affine(M, joints[0])
    assert crop[int(c[1]), int(c[0])].tolist() == [255, 255, 255]
    assert crop[0, 0].tolist() == [128, 128, 128]  # outside the frame
    assert crop[-1, -1].tolist() == [0, 0, 0]  # inside
