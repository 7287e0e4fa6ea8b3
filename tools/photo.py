"""Photos, folders of photos and videos -> every person's 2D joints (the embedded MediaPipe detector, every person:
:mod:`tools.people`) -> 3D pose (our model): what ``lifting estimate`` does without network weights.

Each person is lifted on its own: the detector's 33 landmarks become our 17 joints (``mediapipe33`` table); a joint
whose visibility reaches ``min_confidence`` is observed and weighs its visibility in the lift, the others are inferred
by the prior (``observed: false``, drawn hollow). The lift is :class:`lifting.lift.Lifter` with the shipped model and
the given camera (default: the upright camera, right for an uncalibrated photo taken at about body height). Every
input gets a status (``ok``, ``no person detected``, or, for a file that cannot be read, ``unreadable`` with the
reason) and every person its own (``ok``, one of the lifter's, or ``most of the body inferred by the prior``).
"""
from __future__ import annotations

import contextlib
import os
import tempfile

import numpy as np

from lifting.files import json_text

from .detect import DEFAULT_MIN_CONFIDENCE
from .media import (IMAGE_EXTENSIONS, VIDEO_EXTENSIONS, InputError, collect_inputs, is_video,  # noqa: F401
                    output_stem, read_image)
from .people import NO_PERSON, file_status, header, overlay_people, person_status_name  # noqa: F401

SAMPLE_NAME = "sample"
SAMPLE_DESCRIPTION = ("skimage.data.camera(): a real 512 x 512 photograph of a man behind a camera on a tripod, "
                      "seen from his left, legs below the knees out of the frame")
def sample_image():
    """The embedded sample photograph as RGB ``uint8``: ``skimage.data.camera()`` (shipped inside scikit-image)."""
    from skimage import data

    gray = data.camera()
    return np.ascontiguousarray(np.repeat(gray[:, :, None], 3, axis=2))


def draw_people(path, rgb, people, camera, title):
    """The PNG of one photo (OpenCV, :mod:`tools.overlay`): every person's 2D (observed joints filled, inferred
    hollow grey) with its id, and every 3D pose on the two insets; the canvas follows the photo's size."""
    from .overlay import Overlay, draw_people as draw, write_png

    what = f"{len(people)} {'person' if len(people) == 1 else 'people'}" if people else NO_PERSON
    write_png(path, draw(Overlay(rgb.shape[:2], camera), rgb, overlay_people(people), title=f"{title}: {what}"))


def estimate_photo(name, rgb, estimator, out_dir, stem, camera_label="upright", plot=True, exports=(), tmp_dir=None):
    """One photo -> ``<out_dir>/<stem>.json`` (+ ``.png``, and the ``exports``: ``bvh``, ``csv``, ``html``), replaced
    together (:func:`lifting.files.commit_together`); returns the JSON record."""
    from lifting.files import atomic_write_text, commit_together, run_temp_folder

    from .export import remove_stale_bvh, write_exports

    people = estimator(rgb)
    rec = {**header(name, estimator.lifter, camera_label, estimator.min_confidence, estimator, rgb.shape[:2]),
           "image_size": list(rgb.shape[:2]), "status": file_status(people), "num_people": len(people),
           "people": [p.record() for p in people]}
    base = os.path.join(out_dir, stem)
    os.makedirs(os.path.dirname(base) or ".", exist_ok=True)
    with run_temp_folder(out_dir) if tmp_dir is None else contextlib.nullcontext(tmp_dir) as tmp:
        work = tempfile.mkdtemp(dir=tmp, prefix="photo-")
        frames = [{"frame": 0, "time_s": None, "people": rec["people"]}]
        extra = write_exports(os.path.join(work, "out"), base, frames, exports, estimator.lifter,
                              os.path.basename(name), 1 / 30, rec)
        atomic_write_text(os.path.join(work, "out.json"), json_text(rec))
        pairs = [(os.path.join(work, "out.json"), base + ".json")]
        if plot:
            draw_people(os.path.join(work, "out.png"), rgb, people, estimator.lifter.camera, os.path.basename(name))
            pairs.append((os.path.join(work, "out.png"), base + ".png"))
        commit_together(pairs + extra)  # the JSON, the PNG and the exports are replaced together
        remove_stale_bvh(base, pairs + extra, exports)
    return rec


def write_unreadable(path, error, out_dir, tmp_dir, stem=None):
    """The record of an input that cannot be read: ``<stem>.json`` with status ``unreadable``; an earlier run's other
    outputs of the same stem (``.png``, ``.npz``, ``.mp4``, exports), which no longer match it, are removed with it."""
    import glob

    from lifting.files import atomic_write_text, commit_together

    rec = {"input": path, "status": "unreadable", "error": str(error)}
    base = os.path.join(out_dir, stem if stem is not None else output_stem(path))
    os.makedirs(os.path.dirname(base) or ".", exist_ok=True)
    work = tempfile.mkdtemp(dir=tmp_dir, prefix="unreadable-")
    atomic_write_text(os.path.join(work, "out.json"), json_text(rec))
    stale = [base + ext for ext in (".png", ".npz", ".mp4", ".csv", ".html")]
    for f in stale + glob.glob(glob.escape(base) + ".person*.bvh"):
        if os.path.isfile(f):
            os.unlink(f)
    commit_together([(os.path.join(work, "out.json"), base + ".json")])
    return rec


def _tqdm_write(msg, error=False):
    import sys

    from tqdm import tqdm

    tqdm.write(msg, file=sys.stderr if error else sys.stdout)


def run(inputs, out_dir, lifter, camera_label="upright", min_confidence=DEFAULT_MIN_CONFIDENCE, sample=False,
        plot=True, log=_tqdm_write, people="all", focal_px=None, principal_px=None, smooth=True, exports=(),
        recursive=False):
    """``lifting estimate`` with the embedded detector: every photo, folder and video of ``inputs`` (and the sample
    photo with ``sample``) into ``out_dir``. An input that cannot be read is reported (``log(message, error=True)``)
    and written as a JSON record with status ``unreadable``, and the others go on. Returns ``(records, failed input
    count, inputs in which a person was found)``."""
    from tqdm import tqdm

    from lifting.files import run_temp_folder

    from .people import PeopleEstimator
    from .video import estimate_video

    log = log or (lambda *a, **k: None)
    files = collect_inputs(inputs, recursive=recursive)
    if not files and not sample:
        raise InputError("no input given: name photos, folders or videos (or use --sample)")
    os.makedirs(out_dir, exist_ok=True)
    records, failed, found = [], 0, 0
    photos = [(f, s) for f, s in files if not is_video(f)]
    videos = [(f, s) for f, s in files if is_video(f)]
    opts = dict(min_confidence=min_confidence, people=people, focal_px=focal_px, principal_px=principal_px)
    with run_temp_folder(out_dir) as tmp:  # every temporary file of the run; removed however the run ends
        if sample or photos:
            with PeopleEstimator(lifter, **opts) as est:
                if sample:
                    log(f"sample: {SAMPLE_DESCRIPTION}")
                    rec = estimate_photo(SAMPLE_NAME, sample_image(), est, out_dir, SAMPLE_NAME, camera_label, plot,
                                         exports, tmp)
                    records.append(rec)
                    found += rec["num_people"] > 0
                    log(_summary(SAMPLE_NAME, rec, out_dir, SAMPLE_NAME, plot))
                for path, stem in tqdm(photos, desc="photos", unit="photo", disable=len(photos) < 2):
                    try:
                        rgb = read_image(path)
                    except (InputError, MemoryError) as e:
                        failed += 1
                        records.append(write_unreadable(path, e, out_dir, tmp, stem))
                        log(f"error: {e}", error=True)
                        continue
                    rec = estimate_photo(path, rgb, est, out_dir, stem, camera_label, plot, exports, tmp)
                    records.append(rec)
                    found += rec["num_people"] > 0
                    log(_summary(path, rec, out_dir, stem, plot))
        for path, stem in videos:
            try:
                rec = estimate_video(path, out_dir, lifter, camera_label, min_confidence, plot=plot, log=log,
                                     stem=stem, people=people, focal_px=focal_px, principal_px=principal_px,
                                     smooth=smooth, exports=exports, tmp_dir=tmp)
                found += rec.get("people_found", 0) > 0
            except Exception as e:  # one bad video does not stop the others; the record says what happened
                if not isinstance(e, InputError):
                    e = InputError(f"{path}: cannot be estimated ({type(e).__name__}: {e})")
                failed += 1
                rec = write_unreadable(path, e, out_dir, tmp, stem)
                log(f"error: {e}", error=True)
            records.append(rec)
    return records, failed, found


def _summary(name, rec, out_dir, stem, plot):
    base = os.path.join(out_dir, stem)
    if rec["num_people"]:
        parts = [f"person {p['id']}: {p['observed_joints']} of 17 joints observed, 3D {p['status']}"
                 for p in rec["people"]]
        what = f"{rec['num_people']} {'person' if rec['num_people'] == 1 else 'people'} ({'; '.join(parts)})"
    else:
        what = NO_PERSON
    return f"{name}: {what} -> {base}.json" + (f", {base}.png" if plot else "")
