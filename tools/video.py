"""Videos -> per-frame 2D joints and 3D poses: ``<stem>.npz`` (arrays, one row per frame), ``<stem>.json`` (one record
per frame) and ``<stem>.mp4`` (the frame with the 2D skeleton beside the 3D pose seen from the camera and the side).

Memory stays flat in the length of the video: a frame is read, estimated, drawn and written, and only then is the
next one read; the npz rows go to temporary files in the run's temporary folder and are copied into the npz at the
end, the JSON and the MP4 are written as they go (in that folder too). All three replace the outputs together when the
video is done; a video that fails replaces none of them. Every frame that was read
gets a row: frames without a person are marked (status ``no person detected``), never dropped.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
import zipfile
from contextlib import ExitStack

import numpy as np

from lifting import skeleton
from lifting.files import atomic_path
from lifting.lift import STATUS_NAMES, Lifter

from .overlay import Overlay
from .photo import STATUS_NO_PERSON, Estimator, InputError, header, output_stem, status_name

#: the MP4's frame height (pixels); its width follows from the video's aspect
OVERLAY_HEIGHT = 400
#: the most elongated frame accepted (width over height or height over width)
MAX_ASPECT = 8.0


class NpzAppender:
    """Builds an ``.npz`` one row at a time without holding the rows: every array's rows are appended to a raw
    temporary file in ``tmp_dir``; :meth:`finish` writes ``path`` (atomically) as a zip of ``.npy`` members whose
    first axis is the row count, copying the raw files in chunks. Extra (small) arrays can be added whole."""

    CHUNK = 1 << 18

    def __init__(self, path, tmp_dir):
        self.path = os.fspath(path)
        self.tmp_dir = tmp_dir
        self.rows = 0
        self._spec = {}  # name -> (dtype, row shape, open file)
        self._whole = {}

    def append(self, **row):
        if self._spec and set(row) != set(self._spec):
            raise ValueError(f"row has arrays {sorted(row)}, earlier rows {sorted(self._spec)}")
        for name, value in row.items():
            a = np.asarray(value)
            if name not in self._spec:
                f = open(os.path.join(self.tmp_dir, f"{name}.raw"), "wb")
                self._spec[name] = (a.dtype, a.shape, f)
            dtype, shape, f = self._spec[name]
            if a.shape != shape:
                raise ValueError(f"array {name!r}: row {self.rows} has shape {a.shape}, earlier rows {shape}")
            f.write(np.ascontiguousarray(a, dtype=dtype).tobytes())
        self.rows += 1

    def add(self, **arrays):
        self._whole.update({k: np.asarray(v) for k, v in arrays.items()})

    def finish(self):
        with atomic_path(self.path) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as z:
            for name, (dtype, shape, f) in self._spec.items():
                f.close()
                head = {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False,
                        "shape": (self.rows, *shape)}
                with z.open(f"{name}.npy", "w", force_zip64=True) as out, open(f.name, "rb") as src:
                    np.lib.format.write_array_header_2_0(out, head)
                    shutil.copyfileobj(src, out, self.CHUNK)
            for name, a in self._whole.items():
                with z.open(f"{name}.npy", "w", force_zip64=True) as out:
                    np.lib.format.write_array(out, a, allow_pickle=False)

    def close(self):
        for _, _, f in self._spec.values():
            f.close()


class _JsonFrames:
    """``{header..., "frames": [...], summary...}`` written frame by frame into an open text file."""

    def __init__(self, f, head):
        self.f = f
        self.n = 0
        f.write(json.dumps(head, indent=1)[:-2] + ',\n "frames": [\n')

    def append(self, rec):
        self.f.write((",\n" if self.n else "") + "  " + json.dumps(rec))
        self.n += 1

    def finish(self, tail):
        self.f.write("\n ],\n" + json.dumps(tail, indent=1)[2:] + "\n")


def open_video(path):
    """``(cv2.VideoCapture, fps, announced frame count)``; :class:`InputError` naming the file when it is empty or
    no video OpenCV can decode."""
    import cv2

    path = os.fspath(path)
    if not os.path.isfile(path):
        raise InputError(f"{path}: no such video file")
    if os.path.getsize(path) == 0:
        raise InputError(f"{path}: empty file (0 bytes), not a video")
    cap = cv2.VideoCapture(path)
    if not cap.isOpened():
        cap.release()
        raise InputError(f"{path}: not a readable video (unknown or corrupt container)")
    fps = cap.get(cv2.CAP_PROP_FPS)
    count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    return cap, (fps if np.isfinite(fps) and 0 < fps < 1000 else None), max(count, 0)


def estimate_video(path, out_dir, lifter: Lifter, camera_label="upright", min_confidence=0.5, plot=True,
                   progress=True, log=None, tmp_dir=None):
    """One video -> ``<out_dir>/<stem>.npz``, ``.json`` and (with ``plot``) ``.mp4``, replaced together once the video
    is done (:func:`lifting.files.commit_together`). Temporary files go to ``tmp_dir`` (the run's temporary folder
    inside ``out_dir``; None: one of its own). Returns a summary record."""
    if tmp_dir is None:
        from lifting.files import run_temp_folder

        with run_temp_folder(out_dir) as tmp:
            return estimate_video(path, out_dir, lifter, camera_label, min_confidence, plot, progress, log, tmp)
    from lifting.files import commit_together

    import cv2
    from tqdm import tqdm

    log = log or (lambda *a, **k: None)
    path = os.fspath(path)
    cap, fps, announced = open_video(path)
    stem = os.path.join(out_dir, output_stem(path))
    counts = {}
    try:
        ok, bgr = cap.read()
        if not ok:
            raise InputError(f"{path}: holds no readable frame (empty or corrupt video)")
        h, w = bgr.shape[:2]
        if max(w / h, h / w) > MAX_ASPECT:
            raise InputError(f"{path}: frames of {w} x {h} pixels (aspect beyond {MAX_ASPECT:g}:1) cannot show a person")
        with ExitStack() as stack:
            work = tempfile.mkdtemp(dir=tmp_dir, prefix="video-")
            npz_tmp, json_tmp, mp4_tmp = (os.path.join(work, f"out{ext}") for ext in (".npz", ".json", ".mp4"))
            npz = NpzAppender(npz_tmp, work)
            stack.callback(npz.close)
            jf = stack.enter_context(open(json_tmp, "w", encoding="utf-8"))
            frames = _JsonFrames(jf, {**header(path, lifter, camera_label, min_confidence),
                                      "fps": fps, "frame_size": [h, w]})
            est = stack.enter_context(Estimator(lifter, min_confidence, video=True))
            if plot:
                ow = 2 * int(round(OVERLAY_HEIGHT * (1.3 * max(w / h, 0.4) + 2.3) / 2))  # even sizes for the codec
                writer = cv2.VideoWriter(mp4_tmp, cv2.VideoWriter_fourcc(*"mp4v"), fps or 25.0, (ow, OVERLAY_HEIGHT))
                if not writer.isOpened():
                    raise RuntimeError(f"{stem}.mp4: OpenCV cannot write MP4 (mp4v) here")
                stack.callback(writer.release)
                overlay = Overlay((h, w), lifter.camera, height=OVERLAY_HEIGHT, width=ow)
            bar = stack.enter_context(tqdm(total=announced or None, desc=os.path.basename(path), unit="frame",
                                           disable=not progress))
            i = 0
            while ok:
                if bgr.shape[:2] != (h, w):
                    raise InputError(f"{path}: frame {i} is {bgr.shape[1]} x {bgr.shape[0]} pixels, the video's first "
                                     f"frame {w} x {h}: a video whose frame size changes is not supported (nothing "
                                     "was written for it)")
                rgb = np.ascontiguousarray(bgr[:, :, ::-1])
                e = est(rgb)
                counts[e.status] = counts.get(e.status, 0) + 1
                t = i / fps if fps else None
                npz.append(frame=np.int64(i), time_s=np.float64(np.nan if t is None else t), **e.arrays())
                frames.append({"frame": i, "time_s": None if t is None else round(t, 4), **e.record()})
                if plot:
                    writer.write(overlay.draw(rgb, e.joints2d_px, e.confidence, e.pose3d_mm if e.ok else None,
                                              e.reprojected_px, title=f"frame {i}: {status_name(e.status)}",
                                              note=f"no 3D pose: {status_name(e.status)}"))
                bar.update(1)
                i += 1
                ok, bgr = cap.read()
            short = announced > 0 and i < announced
            tail = {"num_frames": i, "status_counts": {status_name(k): v for k, v in sorted(counts.items())},
                    "warning": (f"the container announced {announced} frames but only {i} could be read "
                                "(truncated or corrupt)") if short else None}
            frames.finish(tail)
            codes = sorted(STATUS_NAMES) + [STATUS_NO_PERSON]
            npz.add(joint_names=np.array(skeleton.JOINT_NAMES), status_codes=np.array(codes, np.int8),
                    status_names=np.array([status_name(c) for c in codes]), camera_E=np.asarray(lifter.camera),
                    fps=np.float64(fps or np.nan))
            npz.finish()
            jf.close()
            if plot:
                writer.release()
            commit_together([(npz_tmp, stem + ".npz"), (json_tmp, stem + ".json")]
                            + ([(mp4_tmp, stem + ".mp4")] if plot else []))
    finally:
        cap.release()
    found = i - counts.get(STATUS_NO_PERSON, 0)
    msg = (f"{path}: {i} frames, person in {found}, 3D in {counts.get(0, 0)} -> {stem}.npz, {stem}.json"
           + (f", {stem}.mp4" if plot else ""))
    log(msg + (f" (warning: {tail['warning']})" if short else ""), error=short)
    return {"input": path, "status": "ok", **tail}
