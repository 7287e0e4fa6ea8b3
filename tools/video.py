"""Videos -> every person's 2D joints and 3D pose frame by frame: ``<stem>.npz`` (arrays, one row per frame and
person), ``<stem>.json`` (one record per frame with its ``people``) and ``<stem>.mp4`` (the frame with every person's
2D skeleton beside the 3D poses seen from the camera and the side). People keep an id from frame to frame
(:class:`lifting.tracking.Tracker`); with smoothing (the default; ``smooth=False`` is ``--no-smooth``) every track's 2D
joints are One-Euro filtered and its ground-plane angle held near the previous frame's (:mod:`lifting.smoothing`).
With ``exports`` a BVH per person, a CSV and an HTML 3D view with a frame slider (:mod:`tools.export`).

Memory stays flat in the length of the video: a frame is read, estimated and handed to the MP4's drawing thread
(:class:`_Drawer`, at most two frames waiting), and only then is the next one read; the npz rows go to temporary
files in the run's temporary folder and are copied into the npz at the end, the JSON and the MP4 are written as they
go (in that folder too). All of a video's outputs (the exports too) replace the earlier ones together when the video
is done; a video that fails replaces none of them. Every frame that was read gets a JSON record and a count in the
npz's ``frame_people``: frames without a person are marked (status ``no person detected``), never dropped. The
exports keep each frame's 3D poses and joints (not its whole record) until the end: a few kilobytes a person and
frame.
"""
from __future__ import annotations

import os
import queue
import tempfile
import threading
from contextlib import ExitStack

import numpy as np

from lifting import skeleton
from lifting.files import JsonListWriter, NpzAppender, atomic_path  # noqa: F401 (NpzAppender: its old home)
from lifting.lift import Lifter

from .export import remove_stale_bvh, write_exports
from .media import InputError, open_video, output_stem
from .overlay import Overlay
from .people import NO_PERSON, PeopleEstimator, file_status, header, overlay_people

#: the MP4's frame height (pixels); its width follows from the video's aspect
OVERLAY_HEIGHT = 400
#: the most elongated frame accepted (width over height or height over width)
MAX_ASPECT = 8.0


class _Drawer:
    """Draws and writes the MP4's frames in a thread of its own while the next frames are estimated: OpenCV's drawing
    and encoding release the GIL, so on a spare core they cost the estimation nothing. At most ``depth`` frames wait
    (memory stays flat); an error in the thread is raised by the next :meth:`put` or by :meth:`close`."""

    def __init__(self, overlay, writer, depth=2):
        self._overlay, self._writer = overlay, writer
        self._queue = queue.Queue(maxsize=depth)
        self._error = None
        self._thread = threading.Thread(target=self._run, name="mp4-drawer", daemon=True)
        self._thread.start()

    def _run(self):
        while True:
            item = self._queue.get()
            if item is None:
                return
            if self._error is None:
                try:
                    rgb, people, title = item
                    self._writer.write(self._overlay.draw_people(rgb, people, title=title))
                except BaseException as e:  # raised in the estimating thread
                    self._error = e

    def _raise(self):
        if self._error is not None:
            raise self._error

    def put(self, rgb, people, title):
        self._raise()
        self._queue.put((rgb, people, title))

    def stop(self):
        """Waits until the frames put are drawn (or dropped after an error) and ends the thread."""
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()

    def close(self):
        """:meth:`stop`, then raises the thread's error, if any."""
        self.stop()
        self._raise()


def _person_row(frame, t, e):
    """The npz row of one person in one frame."""
    return {"frame": np.int64(frame), "time_s": np.float64(np.nan if t is None else t), "person": np.int64(e.id),
            "status": np.int8(e.status), "box": np.asarray(e.person.box, np.float64),
            "score": np.float64(e.person.score), "joints2d_px": e.joints2d_px, "confidence": e.confidence,
            "observed": e.observed, "pose3d_mm": e.pose3d_mm, "pose3d_camera_mm": e.pose3d_camera_mm,
            "reprojected_px": e.reprojected_px, "root_camera_m": e.root_camera_m,
            "ground_angle_rad": np.float64(e.angle)}


def _export_record(rec):
    """What the exports need of a person record (the JSON frames are not kept in memory)."""
    return {k: rec[k] for k in ("id", "status", "joints", "pose3d_mm", "root_camera_m")}


def estimate_video(path, out_dir, lifter: Lifter, camera_label="upright", min_confidence=0.5, plot=True,
                   progress=True, log=None, stem=None, people="all", focal_px=None, principal_px=None, smooth=True,
                   exports=(), detector=None, tmp_dir=None):
    """One video -> ``<out_dir>/<stem>.npz``, ``.json`` and (with ``plot``) ``.mp4`` (+ ``exports``: ``bvh``,
    ``csv``, ``html``), replaced together once the video is done (:func:`lifting.files.commit_together`). Temporary
    files go to ``tmp_dir`` (the run's temporary folder inside ``out_dir``; None: one of its own). Returns a summary
    record."""
    if tmp_dir is None:
        from lifting.files import run_temp_folder

        with run_temp_folder(out_dir) as tmp:
            return estimate_video(path, out_dir, lifter, camera_label, min_confidence, plot, progress, log, stem,
                                  people, focal_px, principal_px, smooth, exports, detector, tmp)
    import cv2
    from tqdm import tqdm

    from lifting.files import commit_together

    log = log or (lambda *a, **k: None)
    path = os.fspath(path)
    cap, fps, announced = open_video(path)
    base = os.path.join(out_dir, stem if stem is not None else output_stem(path))
    os.makedirs(os.path.dirname(base) or ".", exist_ok=True)
    counts, ids, export_frames = {}, set(), []
    try:
        ok, bgr = cap.read()
        if not ok:
            raise InputError(f"{path}: holds no readable frame (empty or corrupt video)")
        h, w = bgr.shape[:2]
        if max(w / h, h / w) > MAX_ASPECT:
            raise InputError(f"{path}: frames of {w} x {h} pixels (aspect beyond {MAX_ASPECT:g}:1) cannot show a "
                             "person")
        with ExitStack() as stack:
            work = tempfile.mkdtemp(dir=tmp_dir, prefix="video-")
            npz_tmp, json_tmp, mp4_tmp = (os.path.join(work, f"out{ext}") for ext in (".npz", ".json", ".mp4"))
            npz = NpzAppender(npz_tmp, work)
            stack.callback(npz.close)
            est = stack.enter_context(PeopleEstimator(lifter, min_confidence, people, focal_px, principal_px,
                                                      video=True, smooth=smooth, detector=detector))
            jf = stack.enter_context(open(json_tmp, "w", encoding="utf-8"))
            frames = JsonListWriter(jf, {**header(path, lifter, camera_label, min_confidence, est, (h, w)),
                                         "fps": fps, "frame_size": [h, w]}, "frames")
            if plot:
                ow = 2 * int(round(OVERLAY_HEIGHT * (1.3 * max(w / h, 0.4) + 2.3) / 2))  # even sizes for the codec
                writer = cv2.VideoWriter(mp4_tmp, cv2.VideoWriter_fourcc(*"mp4v"), fps or 25.0, (ow, OVERLAY_HEIGHT))
                if not writer.isOpened():
                    raise RuntimeError(f"{base}.mp4: OpenCV cannot write MP4 (mp4v) here")
                stack.callback(writer.release)
                overlay = Overlay((h, w), lifter.camera, height=OVERLAY_HEIGHT, width=ow)
                drawer = _Drawer(overlay, writer)
                stack.callback(drawer.stop)  # before the writer's release (callbacks run last first)
            bar = stack.enter_context(tqdm(total=announced or None, desc=os.path.basename(path), unit="frame",
                                           disable=not progress))
            i = 0
            per_frame = []
            while ok:
                if bgr.shape[:2] != (h, w):
                    raise InputError(f"{path}: frame {i} is {bgr.shape[1]} x {bgr.shape[0]} pixels, the video's first "
                                     f"frame {w} x {h}: a video whose frame size changes is not supported (nothing "
                                     "was written for it)")
                rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)  # 0.05 ms; a copy of the reversed view takes 3 ms
                t = i / fps if fps else None
                found = est(rgb, t=t if t is not None else i / 25.0, frame=i)
                status = file_status(found)
                counts[status] = counts.get(status, 0) + 1
                per_frame.append(len(found))
                recs = []
                for e in found:
                    ids.add(e.id)
                    npz.append(**_person_row(i, t, e))
                    recs.append(e.record())
                frames.append({"frame": i, "time_s": None if t is None else round(t, 4), "status": status,
                               "people": recs})
                if exports:
                    export_frames.append({"frame": i, "time_s": t, "people": [_export_record(r) for r in recs]})
                if plot:
                    what = f"{len(found)} {'person' if len(found) == 1 else 'people'}" if found else NO_PERSON
                    drawer.put(rgb, overlay_people(found), f"frame {i}: {what}")
                bar.update(1)
                i += 1
                ok, bgr = cap.read()
            short = announced > 0 and i < announced
            tail = {"num_frames": i, "people_found": len(ids), "person_ids": sorted(ids),
                    "status_counts": dict(sorted(counts.items())),
                    "warning": (f"the container announced {announced} frames but only {i} could be read "
                                "(truncated or corrupt)") if short else None}
            export_pairs = write_exports(os.path.join(work, "out"), base, export_frames, exports, lifter,
                                         os.path.basename(path), 1.0 / (fps or 25.0), tail)
            frames.finish(tail)
            npz.add(joint_names=np.array(skeleton.JOINT_NAMES), camera_E=np.asarray(lifter.camera),
                    fps=np.float64(fps or np.nan), num_frames=np.int64(i),
                    frame_people=np.array(per_frame, np.int64))
            if npz.rows == 0:  # nobody in the whole video: the per-person arrays exist, with no row
                npz.add(**{k: np.zeros((0,) + np.shape(v), np.asarray(v).dtype) for k, v in _EMPTY_ROW.items()})
            npz.finish()
            jf.close()
            if plot:
                drawer.close()
                writer.release()
            pairs = [(npz_tmp, base + ".npz"), (json_tmp, base + ".json")]
            pairs += [(mp4_tmp, base + ".mp4")] if plot else []
            pairs += export_pairs
            commit_together(pairs)
            remove_stale_bvh(base, pairs, exports)
    finally:
        cap.release()
    nothing = counts.get(NO_PERSON, 0)
    msg = (f"{path}: {i} frames, {len(ids)} people tracked, a person in {i - nothing} frames -> {base}.npz, "
           f"{base}.json" + (f", {base}.mp4" if plot else "")
           + "".join(f", {base}.{e}" for e in ("csv", "html") if e in exports)
           + (f", {len(tail.get('bvh', {}))} BVH" if "bvh" in exports else ""))
    log(msg + (f" (warning: {tail['warning']})" if short else ""), error=short)
    return {"input": path, "status": "ok" if ids else NO_PERSON, **tail}


_EMPTY_ROW = {"frame": np.int64(0), "time_s": np.float64(0), "person": np.int64(0), "status": np.int8(0),
              "box": np.zeros(4), "score": np.float64(0), "joints2d_px": np.zeros((17, 2)),
              "confidence": np.zeros(17), "observed": np.zeros(17, bool), "pose3d_mm": np.zeros((17, 3)),
              "pose3d_camera_mm": np.zeros((17, 3)), "reprojected_px": np.zeros((17, 2)),
              "root_camera_m": np.zeros(3), "ground_angle_rad": np.float64(0)}
