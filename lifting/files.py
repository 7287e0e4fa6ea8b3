"""The core's files: atomic writes (every file the project writes goes through :func:`atomic_path`) and the 2D
keypoint readers (JSON incl. OpenPose, CSV, npy/npz)."""
from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import tempfile

import numpy as np

from . import skeleton


def _umask_mode():
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


@contextlib.contextmanager
def atomic_path(path, suffix=".tmp"):
    """Yield a temporary path in the folder of ``path``; when the block ends without an exception the temporary
    file gets the usual permissions (0666 less the umask) and is renamed to ``path``, otherwise it is removed.
    Readers never see a half-written file. ``suffix`` ends the temporary name (writers that pick the container by
    the extension, such as OpenCV's video writer, need ``.tmp.mp4``)."""
    path = os.fspath(path)
    fd, tmp = tempfile.mkstemp(suffix=suffix, dir=os.path.dirname(os.path.abspath(path)))
    os.close(fd)
    try:
        yield tmp
        os.chmod(tmp, _umask_mode())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_write_bytes(path, data: bytes):
    """Write ``data`` to ``path`` atomically."""
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        f.write(data)


def atomic_write_text(path, text: str):
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_savez(path, **arrays):
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    atomic_write_bytes(path, buf.getvalue())


def read_json(path, error=ValueError, what=None):
    """Parse a UTF-8 JSON file; an unreadable or invalid file raises ``error`` naming the file (``what`` is a prefix
    such as ``"--camera"``) and the problem."""
    name = f"{what} {path}" if what else f"{path}"
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except OSError as e:
        raise error(f"{name}: cannot read ({e.strerror})") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise error(f"{name}: not valid JSON ({e})") from None


def open_h5(path, error=ValueError, what="HDF5 file"):
    """Open an HDF5 file read-only; a missing or unreadable file raises ``error`` naming it (``what`` says what it
    should have been)."""
    import h5py

    path = os.fspath(path)
    if not os.path.exists(path):
        raise error(f"{path}: no such {what}")
    try:
        return h5py.File(path, "r")
    except OSError as e:
        raise error(f"{path}: not a readable {what} ({e})") from None


def read_keypoints(path, fmt="h36m"):
    """Read 2D keypoints of format ``fmt`` and convert them to the H36M order.

    Accepted files:
      * ``.npy``: ``(N, F, 2)`` or ``(N, F, 3)`` (third column = confidence), or one frame ``(F, 2|3)``;
      * ``.npz``: array ``keypoints`` as above, optional ``confidence (N, F)``;
      * ``.json``: ``{"keypoints": [[[x, y(, c)], ...], ...]}`` or a bare list of frames, or OpenPose output
        ``{"people": [{"pose_keypoints_2d": [x, y, c, ...]}]}`` (first person);
      * ``.csv``: one frame per row, ``x0, y0, x1, y1, ...`` or ``x0, y0, c0, ...`` (a header row is skipped).
    Returns ``(points (N, 17, 2), weights (N, 17))``.
    """
    path = os.fspath(path)
    if fmt not in skeleton.KEYPOINT_FORMATS:
        raise ValueError(f"unknown keypoint format {fmt!r}; known: {sorted(skeleton.KEYPOINT_FORMATS)}")
    nf = len(skeleton.KEYPOINT_FORMATS[fmt]["names"])
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path}: no such keypoint file")
    ext = os.path.splitext(path)[1].lower()
    conf = None
    try:
        if ext == ".npy":
            arr = np.load(path)
        elif ext == ".npz":
            with np.load(path) as z:
                if "keypoints" not in z:
                    raise ValueError(f"{path}: array 'keypoints' is missing (found {list(z.keys())})")
                arr = z["keypoints"]
                conf = z["confidence"] if "confidence" in z else None
        elif ext == ".json":
            with open(path) as f:
                obj = json.load(f)
            if isinstance(obj, dict) and "people" in obj:
                if not obj["people"]:
                    raise ValueError(f"{path}: field 'people' is empty")
                arr = np.asarray(obj["people"][0]["pose_keypoints_2d"], np.float64).reshape(1, -1, 3)
            else:
                arr = np.asarray(obj["keypoints"] if isinstance(obj, dict) else obj, np.float64)
        elif ext == ".csv":
            with open(path, newline="") as f:
                rows = [r for r in csv.reader(f) if r]
            if rows and not _is_number(rows[0][0]):
                rows = rows[1:]
            vals = np.asarray([[float(v) if v.strip() else np.nan for v in r] for r in rows], np.float64)
            if vals.ndim != 2 or vals.shape[1] not in (2 * nf, 3 * nf):
                raise ValueError(f"{path}: each row must hold {2 * nf} or {3 * nf} numbers for format {fmt!r}, "
                                 f"got {vals.shape[1] if vals.ndim == 2 else 'ragged rows'}")
            arr = vals.reshape(len(vals), nf, -1)
        else:
            raise ValueError(f"{path}: unsupported extension {ext!r} (use .npy, .npz, .json or .csv)")
    except (KeyError, TypeError, json.JSONDecodeError) as e:
        raise ValueError(f"{path}: cannot read keypoints ({type(e).__name__}: {e})") from None
    arr = np.asarray(arr, np.float64)
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim != 3 or arr.shape[1] != nf or arr.shape[2] not in (2, 3):
        raise ValueError(f"{path}: keypoints must have shape (N, {nf}, 2 or 3) for format {fmt!r}, got {arr.shape}")
    if arr.shape[0] == 0:
        raise ValueError(f"{path}: holds no frame")
    if arr.shape[2] == 3:
        conf = arr[..., 2]
    return skeleton.convert_keypoints(arr[..., :2], fmt, conf)


def _is_number(s):
    try:
        float(s)
        return True
    except ValueError:
        return False
