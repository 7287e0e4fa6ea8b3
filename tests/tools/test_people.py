"""Every person in a photo (tools/people.py): selection, duplicates, crops, and on real photographs with labelled
people: several people found, no skeleton assembled from two people, honest joints. In video: the full search every
SCAN_EVERY frames and the people followed between (windows, the schedule, the street video)."""
import json

import numpy as np
import pytest

import mediapipe  # noqa: F401  (set-up installs it: a broken MediaPipe must fail, never skip)

from lifting.lift import Lifter
from lifting.model import load_model
from lifting.pck import match_people
from tests.helpers import shared_path
from tools.detect import Detection
from lifting.tracking import box_iou
from tools.people import (LIMB_LANDMARKS, MATCH_IOU, MultiPoseDetector, PeopleEstimator, Person, TrackedSearch,
                          keeps_window, masked, merge_duplicates, parse_people, same_person, select_people,
                          task_bundle, tile_windows, track_window)
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


def test_track_window_hand_worked():
    # a 20 x 40 box centred at (110, 220): an 80 x 80 square around it; at the image's corner it is clipped; one
    # clipped under 32 px is no window
    assert track_window((100, 200, 20, 40), 480, 640) == (70, 180, 150, 260)
    assert track_window((0, 0, 20, 40), 480, 640) == (0, 0, 50, 60)
    assert track_window((630, 470, 8, 8), 480, 640) is None  # 16 px square, clipped to 14 x 10
    assert track_window((300, 100, 50, 150), 480, 640, scale=1.0) == (250, 100, 400, 250)


def test_keeps_window_hand_worked():
    win = (70, 180, 150, 260)  # placed for the 20 x 40 box above: margin 0.1 x 40 = 4 px
    assert keeps_window(win, 40, (100, 200, 20, 40), 480, 640)
    assert keeps_window(win, 40, (100, 216, 20, 40), 480, 640)  # bottom at 256 = 260 - 4
    assert not keeps_window(win, 40, (100, 217, 20, 40), 480, 640)  # bottom at 257: too near the edge
    assert not keeps_window(win, 40, (73, 200, 20, 40), 480, 640)  # left at 73 < 70 + 4
    assert keeps_window(win, 40, (105, 205, 10, 27), 480, 640)  # 27 >= 40 / 1.5
    assert not keeps_window(win, 40, (105, 205, 10, 26), 480, 640)  # shrunk by more than 1.5x
    assert not keeps_window((0, 0, 200, 200), 40, (80, 80, 61, 20), 480, 640)  # grown by more than 1.5x
    # edges on the image's border do not count: a person cut off by the image keeps the window
    assert keeps_window((0, 0, 50, 60), 40, (-30, -10, 20, 40), 480, 640)
    assert keeps_window((600, 400, 640, 480), 40, (620, 460, 40, 30), 480, 640)


def test_masked_keeps_only_the_box():
    crop = np.arange(1, 4 * 6 + 1, dtype=np.uint8).reshape(4, 6, 1).repeat(3, 2)  # a crop at (10, 20) in its image
    out = masked(crop, (11.5, 21, 2, 1.2), 10, 20)  # columns 1..3 (11 to 14 in the image), rows 1..2
    assert out.shape == crop.shape and out.dtype == np.uint8
    np.testing.assert_array_equal(out[1:3, 1:4], crop[1:3, 1:4])
    out[1:3, 1:4] = 0
    assert not out.any()
    assert not masked(crop, (100, 100, 5, 5), 10, 20).any()  # a box outside the crop: all black


#: in a scripted video, people whose box is less high than this are small: only the tiles find them
SMALL = 60


class _Recorder:
    """A detector in a scripted video: ``world(frame)`` the people of each frame (the frame index is the image's
    first pixel). Its whole-image pass finds every one of them but the small ones (a box under SMALL px high) and
    those whose index in ``world(frame)`` is in ``hidden(frame)`` (missed by the search); the tiles find the small
    ones too. A follower finds the person nearest the box it is given whose box centre lies in its window (hidden or
    not). Every call is recorded."""

    def __init__(self, world, hidden=lambda frame: ()):
        self.world, self.hidden, self.calls, self.made = world, hidden, [], []  # made: the followers' video flags

    def detect(self, rgb, enough=None, counts=None):
        frame = int(rgb[0, 0, 0])
        self.calls.append(("full", frame, enough))
        seen = [p for i, p in enumerate(self.world(frame)) if i not in self.hidden(frame)]
        whole = [p for p in seen if p.box[3] >= SMALL]
        tiles = enough is None or len(whole) < enough
        if counts is not None:
            counts.update(whole=len(whole), tiles=tiles)
        return select_people(seen if tiles else whole, "all", rgb.shape[:2])

    def follower(self, video=True):
        self.made.append(video)
        return _FakeFollower(self, len(self.made) - 1, video)

    def close(self):
        pass


class _FakeFollower:
    def __init__(self, rec, i, video):
        self.rec, self.id, self.video, self.tracking = rec, i, video, False

    def find(self, rgb, window, frame, box, fresh=False):
        self.rec.calls.append(("follow", self.id, frame, window, fresh))
        x0, y0, x1, y1 = window
        here = [p for p in self.rec.world(frame)
                if x0 <= p.box[0] + p.box[2] / 2 <= x1 and y0 <= p.box[1] + p.box[3] / 2 <= y1]
        best = min(here, key=lambda p: np.hypot(p.box[0] - box[0], p.box[1] - box[1]), default=None)
        self.tracking = best is not None and self.video  # a window follower holds no region
        return best

    def close(self):
        self.rec.calls.append(("close", self.id))


def _frame(i):
    rgb = np.zeros((480, 640, 3), np.uint8)
    rgb[0, 0, 0] = i
    return rgb


def test_a_detector_that_cannot_follow_people_searches_every_frame_and_is_closed_once():
    # a detector with only detect(rgb) and close(): video runs its search on every frame (no follower, no `enough`)
    class Plain:
        def __init__(self):
            self.frames, self.closed = [], 0

        def detect(self, rgb):
            self.frames.append(int(rgb[0, 0, 0]))
            return [_person(100.0, 100.0)]

        def close(self):
            self.closed += 1

    det = Plain()
    with PeopleEstimator(Lifter(load_model(None)), video=True, detector=det, scan_every=5) as est:
        found = [len(est(_frame(i), t=i / 25, frame=i)) for i in range(4)]
        assert est.search is None
    assert det.frames == [0, 1, 2, 3] and found == [1, 1, 1, 1] and det.closed == 1


def test_video_runs_the_full_search_every_scan_every_frames_and_follows_people_between():
    # A walks right 2 px a frame; B is there in frames 0-1 only; C comes in at frame 3 (found at the next full
    # search, frame 5). Windows: A (100, 100, 50, 150) -> a 300 px square around it, clipped (0, 25, 275, 325);
    # B (400, 200) -> (275, 125, 575, 425); C (300, 50) -> (175, 0, 475, 275).
    def world(f):
        return ([_person(100.0 + 2 * f, 100.0)] + ([_person(400.0, 200.0)] if f <= 1 else [])
                + ([_person(300.0, 50.0)] if f >= 3 else []))

    rec = _Recorder(world)
    win_a, win_b, win_c = (0, 25, 275, 325), (275, 125, 575, 425), (175, 0, 475, 275)
    ids = []
    with PeopleEstimator(Lifter(load_model(None)), video=True, detector=rec, scan_every=5) as est:
        for i in (0, 1, 2, 3, 4, 5, 6, 9, 10):  # 7 and 8 missing: frame 9 follows no previous frame
            ids.append([p.id for p in est(_frame(i), t=i / 25, frame=i)])
        stats = dict(est.search.stats)
    assert rec.calls == [
        ("full", 0, None),
        ("follow", 0, 1, win_a, True), ("follow", 1, 1, win_b, True),  # new windows: MediaPipe's detector
        ("follow", 0, 2, win_a, False), ("follow", 1, 2, win_b, False),
        ("follow", 1, 2, win_b, True),  # B lost: one fresh try, then its slot is freed
        ("follow", 0, 3, win_a, False),  # C is not searched for between full searches
        ("follow", 0, 4, win_a, False),
        # A keeps its slot and window; C gets B's idle follower. The tiles of frame 0 found nobody the whole image
        # did not (2 people): no tiles unless the whole image finds fewer than 2, until the third full search
        ("full", 5, 2),
        ("follow", 0, 6, win_a, False), ("follow", 1, 6, win_c, True),
        ("full", 9, 2), ("full", 10, None),
        ("close", 0), ("close", 1)]
    assert stats == {"full": 4, "tiles": 2, "whole": 0, "pass": 8, "retry": 1, "placed": 3, "made": 2}
    assert ids == [[0, 1], [0, 1], [0], [0], [0], [0, 2], [0, 2], [0, 2], [0, 2]]
    rec = _Recorder(world)
    with PeopleEstimator(Lifter(load_model(None)), detector=rec) as est:  # photos: always the full search
        est(_frame(0))
        est(_frame(1))
    assert rec.calls == [("full", 0, None), ("full", 1, None)]
    rec = _Recorder(world)
    with PeopleEstimator(Lifter(load_model(None)), video=True, detector=rec, scan_every=1) as est:
        for i in range(3):
            est(_frame(i), t=i / 25, frame=i)
    assert rec.calls == [("full", 0, None), ("full", 1, None), ("full", 2, None)] and rec.made == []
    with pytest.raises(ValueError, match="scan_every must be >= 1"):
        PeopleEstimator(Lifter(load_model(None)), video=True, detector=rec, scan_every=0)


def test_windows_placed_again_near_their_edge_and_two_slots_on_one_person_keep_one():
    # D (60 x 180) walks right 40 px a frame: window (150, 10, 510, 370) (360 px around (330, 190)); it is kept
    # while D's right edge stays 18 px (0.1 x 180) inside it: up to x = 432 (frame 3); at frame 4 (x = 460) it is
    # placed again around D, (310, 10, 640, 370), and frame 5's pass starts fresh. F (score 0.8) walks onto E
    # (score 0.9): at frame 2 they are 3 px apart, one person, and F's slot is freed.
    f_x = {0: 150.0, 1: 100.0}

    def world(f):
        return [_person(300.0 + 40 * f, 100.0, w=60, h=180), _person(50.0, 300.0, score=0.9),
                _person(f_x.get(f, 53.0), 300.0, score=0.8)]

    rec = _Recorder(world)
    search = TrackedSearch(rec, "all", scan_every=10)
    found = [search(_frame(i), i) for i in range(6)]
    win_d, win_e, win_f = (150, 10, 510, 370), (0, 225, 225, 480), (25, 225, 325, 480)
    follows = [c[1:] for c in rec.calls if c[0] == "follow"]
    assert follows == [(0, 1, win_d, True), (1, 1, win_e, True), (2, 1, win_f, True),
                       (0, 2, win_d, False), (1, 2, win_e, False), (2, 2, win_f, False),
                       (0, 3, win_d, False), (1, 3, win_e, False),
                       (0, 4, win_d, False), (1, 4, win_e, False),
                       (0, 5, (310, 10, 640, 370), True), (1, 5, win_e, False)]
    assert [len(p) for p in found] == [3, 3, 2, 2, 2, 2]
    assert [p.score for p in found[2]] == [pytest.approx(0.9), pytest.approx(0.9)]  # D (largest), E
    search.close()
    # --people largest: one slot, and the full search may stop after the whole image (enough=1)
    rec = _Recorder(world)
    search = TrackedSearch(rec, "largest", scan_every=10)
    slots = []
    for i in range(6):
        found = search(_frame(i), i)
        slots.append(len(search.slots))
        assert [p.box[2] for p in found] == ([60, 50, 50] if i == 0 else [60])
    assert slots == [1] * 6 and rec.made == [True]
    assert rec.calls[0] == ("full", 0, 1) and {c[1] for c in rec.calls if c[0] == "follow"} == {0}
    search.close()


def test_frames_on_which_nobody_is_followed_get_the_whole_image_pass():
    # nobody in frames 0-1: frame 1 (nobody followed) gets the whole-image pass (enough=0: no tiles); G comes in at
    # frame 2 and is found by that pass; followed at frames 3-4; gone at frame 5 (lost after the second try), so
    # frame 5 gets the whole-image pass too
    def world(f):
        return [_person(200.0, 100.0)] if 2 <= f <= 4 else []

    rec = _Recorder(world)
    search = TrackedSearch(rec, "all", scan_every=10)
    found = [len(search(_frame(i), i)) for i in range(7)]
    win = (75, 25, 375, 325)
    assert rec.calls == [("full", 0, None), ("full", 1, 0), ("full", 2, 0),
                         ("follow", 0, 3, win, True), ("follow", 0, 4, win, False),
                         ("follow", 0, 5, win, False), ("follow", 0, 5, win, True), ("full", 5, 0), ("full", 6, 0)]
    assert found == [0, 0, 1, 1, 1, 0, 0]
    assert search.stats == {"full": 1, "tiles": 1, "whole": 4, "pass": 3, "retry": 1, "placed": 1, "made": 1}
    search.close()


def test_the_tiles_where_they_found_someone_or_someone_is_missing_else_every_tile_every_full_searches():
    # scan_every 2, tile_every 3. A (large) throughout; B (large) in frames 0-1; S (small: only the tiles find it)
    # from frame 7. Frame 0: the tiles (nothing known yet) find A and B, no more than the whole image. Frame 2: the
    # whole image finds only A, fewer than 2: the tiles are searched (they find no one else; B's follower loses him).
    # Frames 4 and 6: the whole image finds A, as many as the last tile search: no tiles. Frame 8: the third full
    # search since the tiles: the tiles find S, one more than the whole image, so frame 10 searches them too.
    def world(f):
        return ([_person(100.0, 100.0)] + ([_person(400.0, 200.0)] if f <= 1 else [])
                + ([_person(300.0, 300.0, w=15, h=40)] if f >= 7 else []))

    rec = _Recorder(world)
    search = TrackedSearch(rec, "all", scan_every=2, tile_every=3)
    found = [len(search(_frame(i), i)) for i in range(12)]
    assert [c for c in rec.calls if c[0] == "full"] == [("full", 0, None), ("full", 2, 2), ("full", 4, 1),
                                                        ("full", 6, 1), ("full", 8, None), ("full", 10, None)]
    assert found == [2, 2, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2]  # S, in from frame 7, found at frame 8
    assert search.stats["full"] == 6 and search.stats["tiles"] == 4
    search.close()
    # tile_every 1: the tiles at every full search; without followers (scan_every 1) too, whatever tile_every
    for kwargs in ({"scan_every": 2, "tile_every": 1}, {"scan_every": 1, "tile_every": 3}):
        rec = _Recorder(world)
        search = TrackedSearch(rec, "all", **kwargs)
        for i in range(12):
            search(_frame(i), i)
        assert {c[2] for c in rec.calls if c[0] == "full"} == {None}
        search.close()
    with pytest.raises(ValueError, match="tile_every must be >= 1"):
        TrackedSearch(rec, "all", tile_every=0)


def test_a_followed_person_the_full_search_misses_is_followed_on_its_frame():
    # scan_every 3. A and B throughout; the full search of frame 3 misses B (hidden): B's follower finds him on
    # that frame (one pass), and he keeps his slot and id. A is found by the search: her follower skips the frame.
    def world(f):
        return [_person(100.0, 100.0), _person(400.0, 200.0)]

    rec = _Recorder(world, hidden=lambda f: (1,) if f == 3 else ())
    ids = []
    with PeopleEstimator(Lifter(load_model(None)), video=True, detector=rec, scan_every=3) as est:
        for i in range(6):
            ids.append(sorted(p.id for p in est(_frame(i), t=i / 25, frame=i)))
        slots = len(est.search.slots)
    follows = [c[1:3] for c in rec.calls if c[0] == "follow"]
    assert follows == [(0, 1), (1, 1), (0, 2), (1, 2), (1, 3), (0, 4), (1, 4), (0, 5), (1, 5)]
    assert ids == [[0, 1]] * 6 and slots == 2 and rec.made == [True, True]
    assert ("full", 3, 2) in rec.calls  # the whole image (1 person) finds fewer than the tiles of frame 0 (2)


def test_people_beyond_max_followers_are_followed_by_window_passes():
    # max_followers 1: A (the larger) gets a landmarker of its own, B a window follower (no region, no second try,
    # never kept for reuse); B leaves at frame 2; C comes at frame 3, found at frame 5's full search: A's follower is
    # busy, so C gets a new window follower
    def world(f):
        return ([_person(100.0, 100.0, w=60, h=180)] + ([_person(400.0, 200.0)] if f <= 1 else [])
                + ([_person(300.0, 50.0)] if f >= 3 else []))

    rec = _Recorder(world)
    search = TrackedSearch(rec, "all", scan_every=5, max_followers=1)
    found = [len(search(_frame(i), i)) for i in range(7)]
    assert found == [2, 2, 1, 1, 1, 2, 2]
    assert rec.made == [True, False, False]
    follows = [c[1:3] for c in rec.calls if c[0] == "follow"]
    assert follows == [(0, 1), (1, 1), (0, 2), (1, 2), (0, 3), (0, 4), (0, 6), (2, 6)]  # B lost: no second try
    assert search._idle == [] and search.stats["made"] == 1
    search.close()


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


def _street(frames, start=0):
    from tools.media import video_frames

    clip = list(video_frames(shared_path("data", "people", "video", "street_5frames.mp4")))
    assert len(clip) == 5
    return [clip[(start + i) % 5] for i in range(frames)]


def _close(p, q, tolerance):
    """Every edge of ``q``'s box within ``tolerance`` of ``p``'s box's larger side of ``p``'s."""
    a, b = np.asarray(p.box), np.asarray(q.box)
    return bool(np.all(np.abs(np.r_[a[:2], a[:2] + a[2:]] - np.r_[b[:2], b[:2] + b[2:]]) <= tolerance * max(a[2:])))


def test_the_followed_people_are_the_full_searchs_on_the_street_video(detector):
    # The street clip (960 x 540, 5 frames at 5 fps: large moves between frames) looped to 25 frames from its frame
    # 4: the full search finds the woman walking away on every frame, and on one frame in five (clip frame 4: the
    # video's frames 0, 5, 10, 15, 20) also the person half hidden behind her, through the tiles. The tracked
    # schedule (full search at frames 0, 10, 20) finds the woman on every frame, each edge of her box within 15% of
    # its larger side of the full search's (measured: up to 9%), with one id throughout; at its full searches it
    # finds exactly the full search's people. (The person behind her is lost by the frame after a full search, as
    # by the full search itself, and found again at the next one.)
    frames = _street(25, start=4)
    full = [detector.detect(f) for f in frames]
    assert [len(f) for f in full] == [2, 1, 1, 1, 1] * 5
    est = PeopleEstimator(Lifter(load_model(None)), video=True, detector=detector)
    try:
        out = [est(f, t=i / 5, frame=i) for i, f in enumerate(frames)]
        assert est.search.stats["full"] == 3 and est.search.stats["made"] == 2
    finally:
        est.search.close()  # the module's detector is closed by its fixture
    woman = set()
    for i, (want, got) in enumerate(zip(full, out)):
        people = [e.person for e in got]
        if i % 10 == 0:
            assert [p.box for p in people] == [p.box for p in want]
        her = [e for e in got if _close(want[0], e.person, 0.15)]
        assert len(her) == 1, (i, [p.box for p in want], [p.box for p in people])
        woman.add(her[0].id)
    assert len(woman) == 1
    # --people largest: one slot, which follows her
    search = TrackedSearch(detector, "largest")
    try:
        for i, f in enumerate(frames[:12]):
            got = search(f, i)
            assert len(search.slots) == 1 and len(got) == 1 and _close(full[i][0], got[0], 0.15)
        assert search.stats["made"] == 1
    finally:
        search.close()


def test_the_followers_find_the_people_the_tiles_found(detector):
    # a photo as a still video: the full search finds the player far away through its tiles; on the next frames
    # each person is followed in its window, and every one is found again (the same skeleton)
    path, _, _ = _labelled("000000196141.jpg")
    rgb = read_image(path)
    full = detector.detect(rgb)
    whole = detector._pass(rgb, 0, 0, True)
    assert len(full) > len(whole)  # some people only the tiles find
    # enough: the tiles are searched only when the whole image gives fewer people
    boxes = [p.box for p in select_people(merge_duplicates(whole), "all", rgb.shape[:2])]
    assert [p.box for p in detector.detect(rgb, enough=len(whole))] == boxes
    assert [p.box for p in detector.detect(rgb, enough=len(whole) + 1)] == [p.box for p in full]
    search = TrackedSearch(detector, "all")
    try:
        assert len(search(rgb, 0)) == len(full)
        for frame in (1, 2):
            again = search(rgb, frame)
            assert len(again) == len(full)
            for p in full:
                assert any(same_person(p.detection, q.detection, p.box, q.box) for q in again)
    finally:
        search.close()


def test_a_follower_finds_a_seated_person_whom_the_masked_window_hides(detector):
    # Two people seated (COCO 000000040083, 500 x 333): the full search finds the man on the right (box about
    # 61 x 156 px); shown his window black outside that tight box, MediaPipe's detector finds nobody, so the
    # follower looks in the whole window, where the person it finds overlaps his box (IoU about 0.67). Followed as a
    # still video, both people are reported on every frame (before, the man was lost on the frame after every full
    # search: 44 of 80 people-frames).
    path, _, _ = _labelled("000000040083.jpg")
    rgb = read_image(path)
    full = detector.detect(rgb)
    assert len(full) == 2
    man = max(full, key=lambda p: p.box[0])
    window = track_window(man.box, *rgb.shape[:2])
    x0, y0, x1, y1 = window
    follower = detector.follower()
    try:
        hidden = follower._landmarker.detect_for_video(
            detector._image(masked(rgb[y0:y1, x0:x1], man.box, x0, y0)), 0)
        assert not hidden.pose_landmarks  # the case the whole window is for
        found = follower.find(rgb, window, 1, man.box, fresh=True)
        assert found is not None and box_iou(found.box, man.box) >= MATCH_IOU
        assert same_person(found.detection, man.detection, found.box, man.box, threshold=0.5)
    finally:
        follower.close()
    search = TrackedSearch(detector, "all")
    try:
        assert [len(search(rgb, i)) for i in range(12)] == [2] * 12
    finally:
        search.close()


def test_the_searches_refuse_what_is_not_an_rgb_uint8_image(detector):
    search = TrackedSearch(detector, "all")
    search(np.zeros((48, 64, 3), np.uint8), 0)
    try:
        for bad in (np.zeros((48, 64, 3)), np.zeros((48, 64), np.uint8), np.zeros((48, 64, 4), np.uint8)):
            with pytest.raises(ValueError, match=r"RGB uint8 image \(H, W, 3\)"):
                detector.detect(bad)
            with pytest.raises(ValueError, match=r"RGB uint8 image \(H, W, 3\)"):
                search(bad, 1)  # a frame between full searches
    finally:
        search.close()


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
