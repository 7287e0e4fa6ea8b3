"""Every person in a photo (tools/people.py): selection, duplicates, crops, and on real photographs with labelled
people: several people found, no skeleton assembled from two people, honest joints."""
import json

import numpy as np
import pytest

import mediapipe  # noqa: F401  (set-up installs it: a broken MediaPipe must fail, never skip)

from lifting.lift import Lifter
from lifting.model import load_model
from lifting.pck import match_people
from tests.helpers import shared_path
from tools.detect import Detection
from tools.people import (LIMB_LANDMARKS, MultiPoseDetector, PeopleEstimator, Person, merge_duplicates,
                          near_windows, parse_people, same_person, select_people, task_bundle, tile_windows)
from tools.photo import read_image


def _person(x0, y0, score=0.9, w=50.0, h=150.0):
    lm = np.column_stack([np.linspace(x0, x0 + w, 33), np.linspace(y0, y0 + h, 33)])
    return Person(Detection(True, lm, np.full(33, score), np.zeros((33, 3))), score, (x0, y0, w, h))


def test_parse_people():
    assert [parse_people(v) for v in ("all", "Largest", "center", "centre", "3")] == ["all", "largest", "center",
                                                                                      "center", 3]
    for bad in ("0", "some", "-2", "1.5"):
        with pytest.raises(ValueError, match="--people"):
            parse_people(bad)


def test_select_people_by_size_and_centre():
    small, big, mid = _person(0, 0, w=10, h=20), _person(300, 200, w=100, h=300), _person(460, 300, w=40, h=80)
    people = [small, big, mid]
    assert select_people(people, "all", (600, 1000)) == [big, mid, small]
    assert select_people(people, "largest", (600, 1000)) == [big]
    assert select_people(people, "center", (600, 1000)) == [mid]  # its centre (480, 340) is nearest (500, 300)
    assert select_people(people, 2, (600, 1000)) == [big, mid]
    assert select_people([], "center", (600, 1000)) == []


def test_duplicates_merged_keeping_the_best_also_when_mirrored():
    a = _person(100, 100, score=0.8)
    b = _person(103, 100, score=0.9)  # 3 px away: the same person
    mirrored = _person(100, 100, score=0.7)
    lm = mirrored.detection.landmarks_px
    limbs = list(LIMB_LANDMARKS)
    lm[limbs] = lm[limbs].reshape(-1, 2, 2)[:, ::-1].reshape(-1, 2)  # left and right exchanged
    other = _person(400, 100, score=0.5)
    assert same_person(a.detection, mirrored.detection, a.box, mirrored.box)
    assert not same_person(a.detection, other.detection, a.box, other.box)
    assert merge_duplicates([a, mirrored, other, b]) == [b, other]


def test_tile_windows_hand_worked():
    assert tile_windows(400, 800, 0) == []
    assert tile_windows(400, 800, 2) == [(0, 0, 400, 400), (400, 0, 800, 400)]  # 400-px squares, one row
    assert len(tile_windows(800, 800, 2)) == 4


def test_near_windows_hand_worked():
    # a 20 x 40 box centred at (110, 220): a 80 x 80 crop around it; a box holding a found centre is skipped; a
    # crop at the image's corner is clipped, and one clipped under 32 px is left out
    assert near_windows([(100, 200, 20, 40)], [], 480, 640) == [(70, 180, 150, 260)]
    assert near_windows([(100, 200, 20, 40)], [(105, 230)], 480, 640) == []
    assert near_windows([(0, 0, 20, 40)], [], 480, 640) == [(0, 0, 50, 60)]
    assert near_windows([(630, 470, 8, 8)], [], 480, 640) == []


class _Recorder:
    """A detector that records which search each frame got and finds one person."""

    def __init__(self):
        self.calls = []

    def detect(self, rgb):
        self.calls.append("full")
        return [_person(100.0, 50.0)]

    def detect_near(self, rgb, boxes):
        self.calls.append(("near", len(boxes)))
        return [_person(100.0, 50.0)]

    def close(self):
        pass


def test_video_runs_the_full_search_every_scan_every_frames_and_follows_people_between():
    rgb = np.zeros((240, 320, 3), np.uint8)
    det = _Recorder()
    with PeopleEstimator(Lifter(load_model(None)), video=True, detector=det, scan_every=5) as est:
        for i in (0, 1, 2, 3, 4, 5, 6, 9, 10):  # 7 and 8 missing: frame 9 follows no previous frame
            est(rgb, t=i / 25, frame=i)
    assert det.calls == ["full", ("near", 1), ("near", 1), ("near", 1), ("near", 1), "full", ("near", 1), "full",
                         "full"]
    det = _Recorder()
    with PeopleEstimator(Lifter(load_model(None)), detector=det) as est:  # photos: always the full search
        est(rgb)
        est(rgb)
    assert det.calls == ["full", "full"]
    with pytest.raises(ValueError, match="scan_every must be >= 1"):
        PeopleEstimator(Lifter(load_model(None)), video=True, detector=det, scan_every=0)


def test_task_bundle_is_made_once_per_process():
    import zipfile
    from io import BytesIO

    a = task_bundle()
    assert task_bundle() is a  # the second detector of a run reuses it
    with zipfile.ZipFile(BytesIO(a)) as z:
        assert sorted(z.namelist()) == ["pose_detector.tflite", "pose_landmarks_detector.tflite"]


@pytest.fixture(scope="module")
def detector():
    with MultiPoseDetector() as d:
        yield d


def _labelled(image):
    folder = shared_path("data", "people", "coco")
    with open(f"{folder}/test_coco.json", encoding="utf-8") as f:
        d = json.load(f)
    im = next(i for i in d["images"] if i["file_name"] == image)
    gts, labs = [], []
    for a in d["annotations"]:
        if a["image_id"] == im["id"]:
            k = np.asarray(a["keypoints"], np.float64).reshape(17, 3)[5:]
            gts.append(k[:, :2])
            labs.append(k[:, 2] > 0)
    return f"{folder}/{image}", gts, labs


def test_several_people_and_no_mixed_skeleton_on_overlapping_skiers(detector):
    path, gts, labs = _labelled("000000197388.jpg")  # five skiers, one behind the other
    people = detector.detect(read_image(path))
    assert len(people) >= 4
    limbs = list(LIMB_LANDMARKS)
    r = match_people([p.detection.landmarks_px[limbs] for p in people], gts, labs)
    assert len(r["pairs"]) >= 4
    assert max(r["foreign"]) <= 1  # no detection takes 2 or more joints from another labelled person
    assert r["pck"] > 0.45  # the legacy single-person detector scores 14% here (results/people_pck.md)


def test_detect_near_follows_the_people_the_tiles_found(detector):
    # the full search finds the player far away through its tiles; from the boxes of that search, the whole-image
    # pass plus crops around the people it misses find every one of them again (a video's next frame)
    path, _, _ = _labelled("000000196141.jpg")
    rgb = read_image(path)
    full = detector.detect(rgb)
    whole = detector._pass(rgb, 0, 0, True)
    assert len(full) > len(whole)  # some people only the tiles find
    near = detector.detect_near(rgb, [p.box for p in full])
    assert len(near) >= len(full)
    for p in full:
        assert any(same_person(p.detection, q.detection, p.box, q.box) for q in near)


def test_both_searches_refuse_what_is_not_an_rgb_uint8_image(detector):
    for bad in (np.zeros((48, 64, 3)), np.zeros((48, 64), np.uint8), np.zeros((48, 64, 4), np.uint8)):
        with pytest.raises(ValueError, match=r"RGB uint8 image \(H, W, 3\)"):
            detector.detect(bad)
        with pytest.raises(ValueError, match=r"RGB uint8 image \(H, W, 3\)"):
            detector.detect_near(bad, [(0, 0, 10, 10)])


def test_estimate_every_person_with_observed_flags(detector):
    path, gts, labs = _labelled("000000196141.jpg")  # batter, catcher, umpire, a player far away
    rgb = read_image(path)
    with PeopleEstimator(Lifter(load_model(None)), detector=detector) as est:
        est.close = lambda: None  # the module's detector is closed by its fixture
        people = est(rgb)
    assert len(people) >= 3
    assert [p.id for p in people] == list(range(len(people)))
    for p in people:
        rec = p.record()
        assert len(rec["joints"]) == 17
        assert all(isinstance(j["observed"], bool) for j in rec["joints"])
        assert rec["observed_joints"] == sum(j["observed"] for j in rec["joints"])
        assert all((j["confidence"] >= 0.5) == j["observed"] for j in rec["joints"])
        if rec["pose3d_mm"] is not None:
            assert np.asarray(rec["pose3d_mm"]).shape == (17, 3)
            assert rec["root_camera_m"][2] > 0.5  # in front of the camera
    # the largest person (the batter) is matched to a labelled person with most of his limb joints
    limbs = list(LIMB_LANDMARKS)
    r = match_people([people[0].person.detection.landmarks_px[limbs]], gts, labs)
    assert r["pairs"] and r["pairs"][0][2] >= 9
