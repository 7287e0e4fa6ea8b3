"""Photos, folders of photos and videos -> 2D joints (the embedded MediaPipe detector) -> 3D pose (our model): what
``lifting estimate`` does without network weights.

The detector's 33 landmarks become our 17 joints (``mediapipe33`` table); a joint's visibility is its weight in the
lift, and joints below ``min_confidence`` are missing. The lift is :class:`lifting.lift.Lifter` with the shipped
model and the given camera (default: the upright camera, right for an uncalibrated photo taken at about body height).
Every input gets a status: ``ok``, ``no person detected``, one of the lifter's (:data:`lifting.lift.STATUS_NAMES`),
or, for a file that cannot be read, ``unreadable`` with the reason.
"""
from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass

import numpy as np

from lifting import skeleton
from lifting.files import json_text
from lifting.lift import STATUS_NAMES, STATUS_OK, Lifter

from .detect import DEFAULT_MIN_CONFIDENCE, MEDIAPIPE_PACKAGE, MODEL_COMPLEXITY, Detection, PoseDetector

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".gif", ".ppm", ".pgm")
VIDEO_EXTENSIONS = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv")
#: status code of a frame without a person (the lifter's codes are >= 0)
STATUS_NO_PERSON = -1
DETECTOR_NAME = f"{MEDIAPIPE_PACKAGE} pose landmarker (model_complexity {MODEL_COMPLEXITY})"
SAMPLE_NAME = "sample"
SAMPLE_DESCRIPTION = ("skimage.data.camera(): a real 512 x 512 photograph of a man behind a camera on a tripod, "
                      "seen from his left, legs below the knees out of the frame")


class InputError(ValueError):
    """An input that cannot be used; the message names the file and the reason."""


def status_name(code):
    return "no person detected" if code == STATUS_NO_PERSON else STATUS_NAMES[int(code)]


def is_video(path):
    return os.path.splitext(path)[1].lower() in VIDEO_EXTENSIONS


def collect_inputs(paths):
    """Files and folders -> the list of input files. A folder contributes its images and videos (not its
    subfolders), sorted by name. Raises :class:`InputError` for a missing path, a folder without any, or two inputs
    whose outputs would have the same name."""
    out = []
    for p in paths:
        p = os.fspath(p)
        if os.path.isdir(p):
            files = sorted(f for f in os.listdir(p) if os.path.splitext(f)[1].lower() in
                           IMAGE_EXTENSIONS + VIDEO_EXTENSIONS and os.path.isfile(os.path.join(p, f))
                           and not f.startswith(".") and ".tmp" not in f)  # hidden and temporary files: not inputs
            if not files:
                raise InputError(f"{p}: the folder holds no image or video (extensions "
                                 f"{', '.join(IMAGE_EXTENSIONS + VIDEO_EXTENSIONS)})")
            out += [os.path.join(p, f) for f in files]
        elif os.path.exists(p):
            out.append(p)
        else:
            raise InputError(f"{p}: no such file or folder")
    seen = {}
    for p in out:
        stem = output_stem(p)
        if stem in seen:
            raise InputError(f"{seen[stem]} and {p} would both write {stem}.json; estimate them into different "
                             "--out folders")
        seen[stem] = p
    return out


def output_stem(path):
    return os.path.splitext(os.path.basename(path))[0]


def read_image(path):
    """A photo as RGB ``uint8 (H, W, 3)``, turned as its EXIF orientation says. Raises :class:`InputError` naming the
    file for a missing, empty, truncated or corrupt file or one that is no image."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    path = os.fspath(path)
    if not os.path.isfile(path):
        raise InputError(f"{path}: no such image file")
    try:
        if os.path.getsize(path) == 0:
            raise InputError(f"{path}: empty file (0 bytes), not an image")
        with Image.open(path) as im:
            im = ImageOps.exif_transpose(im)
            rgb = _to_rgb8(path, im)
    except UnidentifiedImageError:
        raise InputError(f"{path}: not a readable image (unknown or corrupt format)") from None
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as e:
        if isinstance(e, InputError):
            raise
        raise InputError(f"{path}: not a readable image ({type(e).__name__}: {e})") from None
    if rgb.ndim != 3 or rgb.shape[2] != 3 or min(rgb.shape[:2]) < 2:
        raise InputError(f"{path}: image of shape {rgb.shape} is too small to hold a person")
    return np.ascontiguousarray(rgb)


def _to_rgb8(path, im):
    """A PIL image as RGB uint8. 16-bit and 32-bit integer images are scaled from their full range, float images from
    [0, 1] (or [0, 255] when their values say so); PIL's plain ``convert`` would clip them to white or black."""
    mode = im.mode
    if mode.startswith("I;16") or mode in ("I", "F"):
        a = np.asarray(im)
        if mode == "F":
            a = a.astype(np.float64)
            if not np.isfinite(a).all():
                raise InputError(f"{path}: float image holds NaN or inf")
            lo, hi = float(a.min()), float(a.max())
            if lo < 0 or hi > 255:
                raise InputError(f"{path}: float image with values {lo:g}..{hi:g}: neither [0, 1] nor [0, 255], its "
                                 "intensities cannot be read; save it as 8- or 16-bit")
            a = a * 255.0 if hi <= 1.0 else a
        else:
            a = a.astype(np.float64)
            if a.min() < 0:
                raise InputError(f"{path}: {mode} image holds negative intensities")
            a = a / (65535.0 if mode.startswith("I;16") or a.max() <= 65535 else 4294967295.0) * 255.0
        gray = np.clip(np.round(a), 0, 255).astype(np.uint8)
        return np.repeat(gray[:, :, None], 3, axis=2) if gray.ndim == 2 else gray
    return np.asarray(im.convert("RGB"))


def sample_image():
    """The embedded sample photograph as RGB ``uint8``: ``skimage.data.camera()`` (shipped inside scikit-image)."""
    from skimage import data

    gray = data.camera()
    return np.ascontiguousarray(np.repeat(gray[:, :, None], 3, axis=2))


def _list(a, digits):
    """Array -> nested lists with NaN as None (valid JSON)."""
    a = np.asarray(a, np.float64)
    if a.ndim == 0:
        return None if not np.isfinite(a) else round(float(a), digits)
    return [_list(x, digits) for x in a]


@dataclass
class Estimate:
    """One image's (or frame's) result: the detection, our 17 joints ``joints2d_px (17, 2)`` with ``confidence
    (17,)`` (0 = missing), ``status`` (code, :func:`status_name`), ``pose3d_mm (17, 3)`` (our y-up world, root at the
    origin), ``pose3d_camera_mm`` (the same in camera axes: x right, y down, z forward) and ``reprojected_px
    (17, 2)``; NaN where there is no 3D."""

    detection: Detection
    joints2d_px: np.ndarray
    confidence: np.ndarray
    status: int
    pose3d_mm: np.ndarray
    pose3d_camera_mm: np.ndarray
    reprojected_px: np.ndarray

    @property
    def ok(self):
        return self.status == STATUS_OK

    def record(self):
        """JSON-ready fields: null for what does not exist (no person: no joints; no 3D: no pose), a missing joint's
        coordinates null."""
        d = self.detection
        found, ok = bool(d.found), self.ok
        return {"status": status_name(self.status), "person_found": found,
                "joints2d_px": _list(self.joints2d_px, 2) if found else None, "confidence": _list(self.confidence, 3),
                "pose3d_mm": _list(self.pose3d_mm, 2) if ok else None,
                "pose3d_camera_mm": _list(self.pose3d_camera_mm, 2) if ok else None,
                "reprojected_px": _list(self.reprojected_px, 2) if ok else None,
                "mediapipe_landmarks_px": _list(d.landmarks_px, 2) if found else None,
                "mediapipe_visibility": _list(d.visibility, 3) if found else None,
                "mediapipe_world_mm": _list(d.world_joints_mm(), 1) if found else None}

    def arrays(self):
        """Per-frame arrays for the video npz."""
        d = self.detection
        return {"status": np.int8(self.status), "person_found": np.bool_(d.found),
                "joints2d_px": self.joints2d_px, "confidence": self.confidence, "pose3d_mm": self.pose3d_mm,
                "pose3d_camera_mm": self.pose3d_camera_mm, "reprojected_px": self.reprojected_px,
                "mediapipe_landmarks_px": d.landmarks_px, "mediapipe_visibility": d.visibility,
                "mediapipe_world_mm": d.world_joints_mm() if d.found else np.full((17, 3), np.nan)}


class Estimator:
    """Detector + lifter. ``lifter``: a :class:`Lifter` (its camera is the photo's); ``video``: MediaPipe's tracking
    mode for consecutive frames."""

    def __init__(self, lifter: Lifter, min_confidence=DEFAULT_MIN_CONFIDENCE, video=False):
        if not 0 <= min_confidence < 1:
            raise ValueError(f"min_confidence must be in [0, 1), got {min_confidence}")
        self.lifter = lifter
        self.min_confidence = float(min_confidence)
        self.detector = PoseDetector(video=video)

    def __call__(self, rgb) -> Estimate:
        det = self.detector.detect(rgb)
        nan = np.full((skeleton.NUM_JOINTS, 3), np.nan)
        if not det.found:
            return Estimate(det, np.full((skeleton.NUM_JOINTS, 2), np.nan), np.zeros(skeleton.NUM_JOINTS),
                            STATUS_NO_PERSON, nan, nan, nan[:, :2].copy())
        pts, w = det.joints(self.min_confidence)
        res = self.lifter.lift(pts[None], w[None])
        return Estimate(det, pts, w, int(res.status[0]), res.pose3d_mm[0], res.pose3d_camera_mm[0],
                        res.reprojected[0])

    def close(self):
        self.detector.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def draw(path, rgb, est: Estimate, camera, title):
    from .overlay import Overlay, write_png

    write_png(path, Overlay(rgb.shape[:2], camera).draw(
        rgb, est.joints2d_px, est.confidence, est.pose3d_mm if est.ok else None, est.reprojected_px,
        title=f"{title}: {status_name(est.status)}", note=f"no 3D pose: {status_name(est.status)}"))


def header(name, lifter, camera_label, min_confidence):
    return {"input": name, "detector": DETECTOR_NAME, "camera": camera_label,
            "camera_E": np.asarray(lifter.camera).round(6).tolist(), "min_confidence": min_confidence,
            "joint_names": list(skeleton.JOINT_NAMES),
            "units": "joints2d_px/reprojected_px: image pixels; pose3d_mm: y-up world, root (Hip) at the origin; "
                     "pose3d_camera_mm: camera axes (x right, y down, z forward), root-relative; "
                     "mediapipe_world_mm: MediaPipe's own 3D in our joints, camera axes, origin between the hips"}


def estimate_photo(name, rgb, estimator: Estimator, out_dir, camera_label="upright", plot=True, tmp_dir=None):
    """One photo -> ``<out_dir>/<name>.json`` (+ ``.png``); returns the JSON record."""
    from lifting.files import atomic_write_text, commit_together, run_temp_folder

    est = estimator(rgb)
    rec = {**header(name, estimator.lifter, camera_label, estimator.min_confidence), "image_size": list(rgb.shape[:2]),
           **est.record()}
    stem = os.path.join(out_dir, output_stem(name))
    with run_temp_folder(out_dir) if tmp_dir is None else _nothing(tmp_dir) as tmp:
        work = tempfile.mkdtemp(dir=tmp, prefix="photo-")
        atomic_write_text(os.path.join(work, "out.json"), json_text(rec))
        pairs = [(os.path.join(work, "out.json"), stem + ".json")]
        if plot:
            draw(os.path.join(work, "out.png"), rgb, est, estimator.lifter.camera, os.path.basename(name))
            pairs.append((os.path.join(work, "out.png"), stem + ".png"))
        commit_together(pairs)  # the JSON and the PNG are replaced together
    return rec


@contextlib.contextmanager
def _nothing(value):
    yield value


def write_unreadable(path, error, out_dir, tmp_dir):
    """The record of an input that cannot be read: ``<stem>.json`` with status ``unreadable``; an earlier run's other
    outputs of the same stem (``.png``, ``.npz``, ``.mp4``), which no longer match it, are removed with it."""
    from lifting.files import atomic_write_text, commit_together

    rec = {"input": path, "status": "unreadable", "error": str(error)}
    stem = os.path.join(out_dir, output_stem(path))
    work = tempfile.mkdtemp(dir=tmp_dir, prefix="unreadable-")
    atomic_write_text(os.path.join(work, "out.json"), json_text(rec))
    for ext in (".png", ".npz", ".mp4"):
        if os.path.isfile(stem + ext):
            os.unlink(stem + ext)
    commit_together([(os.path.join(work, "out.json"), stem + ".json")])
    return rec


def _tqdm_write(msg, error=False):
    import sys

    from tqdm import tqdm

    tqdm.write(msg, file=sys.stderr if error else sys.stdout)


def run(inputs, out_dir, lifter: Lifter, camera_label="upright", min_confidence=DEFAULT_MIN_CONFIDENCE, sample=False,
        plot=True, log=_tqdm_write):
    """``lifting estimate`` with the embedded detector: every photo, folder and video of ``inputs`` (and the sample
    photo with ``sample``) into ``out_dir``. An input that cannot be read is reported (``log(message, error=True)``)
    and written as a JSON record with status ``unreadable``, and the others go on. Returns ``(records, failed input
    count)``."""
    from tqdm import tqdm

    from lifting.files import run_temp_folder

    from .video import estimate_video

    log = log or (lambda *a, **k: None)
    files = collect_inputs(inputs)
    if not files and not sample:
        raise InputError("no input given: name photos, folders or videos (or use --sample)")
    os.makedirs(out_dir, exist_ok=True)
    records, failed = [], 0
    photos = [f for f in files if not is_video(f)]
    videos = [f for f in files if is_video(f)]
    with run_temp_folder(out_dir) as tmp:  # every temporary file of the run; removed however the run ends
        if sample or photos:
            with Estimator(lifter, min_confidence) as est:
                if sample:
                    log(f"sample: {SAMPLE_DESCRIPTION}")
                    rec = estimate_photo(SAMPLE_NAME, sample_image(), est, out_dir, camera_label, plot, tmp)
                    records.append(rec)
                    log(_summary(SAMPLE_NAME, rec, out_dir, plot))
                for path in tqdm(photos, desc="photos", unit="photo", disable=len(photos) < 2):
                    try:
                        rgb = read_image(path)
                    except (InputError, MemoryError) as e:
                        failed += 1
                        records.append(write_unreadable(path, e, out_dir, tmp))
                        log(f"error: {e}", error=True)
                        continue
                    rec = estimate_photo(path, rgb, est, out_dir, camera_label, plot, tmp)
                    records.append(rec)
                    log(_summary(path, rec, out_dir, plot))
        for path in videos:
            try:
                rec = estimate_video(path, out_dir, lifter, camera_label, min_confidence, plot=plot, log=log,
                                     tmp_dir=tmp)
            except Exception as e:  # one bad video does not stop the others; the record says what happened
                if not isinstance(e, InputError):
                    e = InputError(f"{path}: cannot be estimated ({type(e).__name__}: {e})")
                failed += 1
                rec = write_unreadable(path, e, out_dir, tmp)
                log(f"error: {e}", error=True)
            records.append(rec)
    return records, failed


def _summary(name, rec, out_dir, plot):
    stem = os.path.join(out_dir, output_stem(name))
    n = sum(c is not None and c > 0 for c in rec["confidence"])
    what = f"{n} of 17 joints, 3D {rec['status']}" if rec["person_found"] else "no person detected"
    return f"{name}: {what} -> {stem}.json" + (f", {stem}.png" if plot else "")
