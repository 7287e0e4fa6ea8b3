"""The core's files: atomic writes (every file the project writes goes through :func:`atomic_path`), valid JSON
(:func:`atomic_write_json`: null, never NaN) and the 2D keypoint readers (JSON incl. OpenPose, CSV, npy/npz), which
refuse rather than guess and name the file and the line, frame or field."""
from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import os
import secrets
import shutil
import tempfile
import zipfile

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
    folder = os.path.dirname(os.path.abspath(path))
    tmp = None
    try:  # the name is known before the file exists: a Ctrl-C at any moment cannot leave it behind
        while True:
            tmp = os.path.join(folder, f"tmp{secrets.token_hex(6)}{suffix}")
            try:
                os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
                break
            except FileExistsError:
                continue
        yield tmp
        os.chmod(tmp, _umask_mode())
        os.replace(tmp, path)
    except BaseException:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
        raise


#: the name of a run's temporary folder starts with this (hidden: ignored as input, removed when the run ends)
TEMP_PREFIX = ".lifting-tmp-"


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process: alive
        return True
    return True


def remove_stale_temp(folder):
    """Remove the temporary folders of runs that were killed (their process is gone) from ``folder``."""
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for name in names:
        if not name.startswith(TEMP_PREFIX):
            continue
        pid = name[len(TEMP_PREFIX):].split("-", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and not _pid_alive(int(pid)):
            shutil.rmtree(os.path.join(folder, name), ignore_errors=True)


@contextlib.contextmanager
def run_temp_folder(folder):
    """One temporary folder per run inside ``folder`` (``.lifting-tmp-<pid>-...``): every temporary file of the run
    goes there, and it is removed when the block ends, however it ends; the folders of killed runs are removed by the
    next run (:func:`remove_stale_temp`). Readers of inputs skip hidden names, so it is never taken as an input."""
    os.makedirs(folder, exist_ok=True)
    remove_stale_temp(folder)
    tmp = tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}{os.getpid()}-", dir=folder)
    try:
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def commit_together(pairs):
    """Move finished temporary files onto their outputs, ``[(tmp, path), ...]``, only once every one is complete
    (the caller calls this after writing them all): results that belong together (a video's json, npz and mp4) are
    replaced together, never one of them alone. Temporary files must be on the outputs' file system
    (:func:`run_temp_folder` in the output folder)."""
    pairs = [(os.fspath(t), os.fspath(p)) for t, p in pairs]
    for tmp, _ in pairs:
        if not os.path.isfile(tmp):
            raise FileNotFoundError(f"{tmp}: temporary output missing; nothing was replaced")
        os.chmod(tmp, _umask_mode())
    for tmp, path in pairs:
        os.replace(tmp, path)


def atomic_write_bytes(path, data: bytes):
    """Write ``data`` to ``path`` atomically."""
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        f.write(data)


def atomic_write_text(path, text: str):
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_savez(path, **arrays):
    buf = io.BytesIO()
    try:
        np.savez_compressed(buf, **arrays)
    except ValueError as e:  # Ctrl-C inside zipfile's member write surfaces as "Can't close the ZIP file ..."
        if isinstance(e.__context__, KeyboardInterrupt):
            raise e.__context__ from None
        raise
    atomic_write_bytes(path, buf.getvalue())


def sha256_file(path, block=1 << 20):
    """The SHA-256 (hex) of a file's content, read in blocks (flat memory for any size)."""
    import hashlib

    h = hashlib.sha256()
    with open(os.fspath(path), "rb") as f:
        for chunk in iter(lambda: f.read(block), b""):
            h.update(chunk)
    return h.hexdigest()


def file_fingerprint(path):
    """``{"path": absolute path, "bytes": size, "sha256": content hash}`` of a file (None for None): what a resumable
    run records of each input, so that a file changed in place (same path, same size) is told apart."""
    if path is None:
        return None
    path = os.fspath(path)
    return {"path": os.path.abspath(path), "bytes": os.path.getsize(path), "sha256": sha256_file(path)}


def differences(old, new, prefix=""):
    """What differs between two JSON-able records (a run's recorded settings and this run's), as readable lines such
    as ``"model: sha256 3f2a... -> 9b1c..."``; [] when they agree."""
    if isinstance(old, dict) and isinstance(new, dict):
        out = []
        for k in sorted(set(old) | set(new), key=str):
            out += differences(old.get(k), new.get(k), f"{prefix}.{k}" if prefix else str(k))
        return out
    if old != new:
        def short(v):
            t = json.dumps(v, sort_keys=True) if not isinstance(v, str) else v
            return t if len(t) <= 80 else t[:77] + "..."
        return [f"{prefix or 'value'}: {short(old)} -> {short(new)}"]
    return []


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
        self.extend(**{name: np.asarray(value)[None] for name, value in row.items()})

    def extend(self, **rows):
        """Append the rows of every array (the same number of rows each, along the first axis)."""
        if self._spec and set(rows) != set(self._spec):
            raise ValueError(f"row has arrays {sorted(rows)}, earlier rows {sorted(self._spec)}")
        counts = {len(v) for v in rows.values()}
        if len(counts) != 1:
            raise ValueError(f"arrays {sorted(rows)} hold different numbers of rows: {sorted(counts)}")
        for name, value in rows.items():
            a = np.asarray(value)
            if name not in self._spec:
                f = open(os.path.join(self.tmp_dir, f"{name}.raw"), "wb")
                self._spec[name] = (a.dtype, a.shape[1:], f)
            dtype, shape, f = self._spec[name]
            if a.shape[1:] != shape:
                raise ValueError(f"array {name!r}: row {self.rows} has shape {a.shape[1:]}, earlier rows {shape}")
            f.write(np.ascontiguousarray(a, dtype=dtype).tobytes())
        self.rows += counts.pop()

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


class JsonListWriter:
    """``{**head, key: [items...], **tail}`` written item by item into the open text file ``f`` in constant memory
    (valid JSON: see :func:`json_safe`): :meth:`append` one item, :meth:`finish` with the fields that follow the list
    (known only at the end, e.g. a video's summary)."""

    def __init__(self, f, head, key, indent=1):
        self.f, self.indent, self.count = f, indent, 0
        text = json_text({**head, key: []}, indent)
        f.write(text[:text.rindex("[") + 1])  # the head, then the list opened

    def append(self, item):
        self.f.write(("," if self.count else "") + "\n" + json.dumps(json_safe(item), allow_nan=False))
        self.count += 1

    def finish(self, tail=None):
        rest = json_text(tail, self.indent).strip()[1:-1].strip("\n") if tail else ""
        self.f.write("\n]" + (",\n" + rest if rest else "") + "\n}\n")


@contextlib.contextmanager
def json_stream(path, head, key, indent=1):
    """Write ``{**head, key: [items...]}`` to ``path`` atomically in constant memory: yields ``add(item)``, which
    appends one item (:class:`JsonListWriter`); the file appears when the block ends without an error."""
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as f:
        writer = JsonListWriter(f, head, key, indent)
        yield writer.append
        writer.finish()


def json_safe(obj):
    """``obj`` with every non-finite float replaced by None and numpy scalars/arrays turned into Python ones, so
    that it serialises as valid JSON (``NaN`` is not JSON)."""
    if isinstance(obj, dict):
        return {str(k): json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return json_safe(obj.tolist())
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):  # a numpy call per number took most of the time
        return None
    return obj


def json_text(obj, indent=1):
    """Valid JSON text of ``obj`` (non-finite numbers become null; see :func:`json_safe`)."""
    return json.dumps(json_safe(obj), indent=indent, allow_nan=False)


def atomic_write_json(path, obj, indent=1):
    """Write ``obj`` as valid JSON (null, never NaN) to ``path`` atomically."""
    atomic_write_text(path, json_text(obj, indent))


def _read_text(path, error, name):
    """The UTF-8 text of ``path`` (a byte-order mark is dropped); errors name the file."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            return f.read()
    except OSError as e:
        raise error(f"{name}: cannot read ({e.strerror})") from None
    except UnicodeDecodeError as e:
        raise error(f"{name}: not UTF-8 text (byte 0x{e.object[e.start]:02x} at offset {e.start})") from None


def read_json(path, error=ValueError, what=None):
    """Parse a UTF-8 JSON file (a byte-order mark is tolerated); an unreadable or invalid file raises ``error``
    naming the file (``what`` is a prefix such as ``"--camera"``) and the problem."""
    name = f"{what} {path}" if what else f"{path}"
    text = _read_text(path, error, name)
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise error(f"{name}: not valid JSON ({e})") from None
    except RecursionError:
        raise error(f"{name}: JSON nested too deeply to be one of this program's files") from None


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


def read_keypoints(path, fmt="h36m", person=None):
    """Read 2D keypoints of format ``fmt`` and convert them to the H36M order.

    ``lifting estimate``'s own outputs (a photo's or a video's ``.json`` with ``people`` lists, a video's ``.npz``)
    are read too (:func:`read_estimate_keypoints`): our 17 joints, one person (``person``: its id; needed when the
    file holds several).

    Accepted files:
      * ``.npy``: ``(N, F, 2)`` or ``(N, F, 3)`` (third column = confidence), or one frame ``(F, 2|3)``;
      * ``.npz``: array ``keypoints`` as above, optional ``confidence (N, F)``;
      * ``.json``: ``{"keypoints": [[[x, y(, c)], ...], ...]}`` or a bare list of frames, or OpenPose output
        ``{"people": [{"pose_keypoints_2d": [x, y, c, ...]}]}`` (first person);
      * ``.csv``: one frame per row, ``x0, y0, x1, y1, ...`` or ``x0, y0, c0, ...``; UTF-8 (a byte-order mark is
        dropped); a first row whose every cell is a name is a header (one that mixes names and numbers, a typo, is
        refused); an empty cell is a missing value.
    Confidences must lie in [0, 1] (NaN = missing): a third column outside it is refused (3D poses are not 2D
    keypoints with a confidence). Every problem raises ValueError naming the file and the frame, line or field.
    Returns ``(points (N, 17, 2), weights (N, 17))``.
    """
    path = os.fspath(path)
    if fmt not in skeleton.KEYPOINT_FORMATS:
        raise ValueError(f"unknown keypoint format {fmt!r}; known: {sorted(skeleton.KEYPOINT_FORMATS)}")
    nf = len(skeleton.KEYPOINT_FORMATS[fmt]["names"])
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path}: no such keypoint file")
    if os.path.isdir(path):
        raise ValueError(f"{path}: is a folder, not a keypoint file")
    ext = os.path.splitext(path)[1].lower()
    if is_estimate_file(path):
        if fmt != "h36m":
            raise ValueError(f"{path}: `lifting estimate`'s output holds our 17 joints (format h36m), not {fmt!r}")
        return read_estimate_keypoints(path, person)
    if person is not None:
        raise ValueError(f"{path}: a person id is only used with `lifting estimate`'s own JSON or npz")
    readers = {".npy": _keypoints_npy, ".npz": _keypoints_npz, ".json": _keypoints_json, ".csv": _keypoints_csv}
    if ext not in readers:
        raise ValueError(f"{path}: unsupported extension {ext!r} (use .npy, .npz, .json or .csv)")
    arr, conf = readers[ext](path, nf, fmt)
    from .plausible import check_keypoints_2d

    arr = np.asarray(arr)
    if np.iscomplexobj(arr) or np.iscomplexobj(conf):
        raise ValueError(f"{path}: holds complex numbers; keypoints must be real pixel coordinates")
    arr = np.asarray(arr, np.float64)
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim != 3 or arr.shape[1] != nf or arr.shape[2] not in (2, 3):
        raise ValueError(f"{path}: keypoints must have shape (N, {nf}, 2 or 3) for format {fmt!r}, got {arr.shape}")
    if arr.shape[0] == 0:
        raise ValueError(f"{path}: holds no frame")
    check_keypoints_2d(arr[..., :2], path)
    if arr.shape[2] == 3:
        if conf is not None:
            raise ValueError(f"{path}: confidences given twice (a third column and array 'confidence')")
        conf = arr[..., 2]
    if conf is not None:
        conf = np.asarray(conf, np.float64)
        if conf.shape != arr.shape[:2]:
            raise ValueError(f"{path}: confidence must have shape {arr.shape[:2]}, got {conf.shape}")
        _check_confidence(path, conf)
    return skeleton.convert_keypoints(arr[..., :2], fmt, conf)


ESTIMATE_NPZ_ARRAYS = ("frame", "person", "joints2d_px", "confidence", "observed")


def is_estimate_file(path):
    """Whether ``path`` is ``lifting estimate``'s own output: an npz with the per-person rows
    (:data:`ESTIMATE_NPZ_ARRAYS`) or a JSON whose ``people`` (or whose frames' ``people``) hold ``joints`` lists."""
    ext = os.path.splitext(path)[1].lower()
    try:
        if ext == ".npz":
            with np.load(path, allow_pickle=False) as z:
                return all(k in z.files for k in ESTIMATE_NPZ_ARRAYS)
        if ext == ".json":
            obj = read_json(path)
            if not isinstance(obj, dict):
                return False
            frames = obj.get("frames") if isinstance(obj.get("frames"), list) else [obj]
            return any(isinstance(f, dict) and isinstance(f.get("people"), list) and f["people"]
                       and isinstance(f["people"][0], dict) and "joints" in f["people"][0] for f in frames)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile):
        return False
    return False


def _choose_person(path, ids, person):
    ids = sorted(set(int(i) for i in ids))
    if not ids:
        raise ValueError(f"{path}: `lifting estimate` found no person in it: nothing to lift")
    if person is None:
        if len(ids) > 1:
            raise ValueError(f"{path}: holds people {', '.join(map(str, ids[:20]))}: choose one with --person ID")
        return ids[0]
    if int(person) not in ids:
        raise ValueError(f"{path}: no person {person} (it holds {', '.join(map(str, ids[:20]))})")
    return int(person)


def read_estimate_keypoints(path, person=None):
    """``lifting estimate``'s output -> ``(points (N, 17, 2), weights (N, 17))`` of one person, one row per frame
    (a photo: one row). A joint's weight is its confidence where it was observed, else 0 (as estimate lifted it);
    frames without that person are rows of NaN with weight 0."""
    L = skeleton.NUM_JOINTS
    if os.path.splitext(path)[1].lower() == ".npz":
        with _load_numpy(path, ".npz") as z:
            a = {k: z[k] for k in ESTIMATE_NPZ_ARRAYS}
            n = (int(z["num_frames"]) if "num_frames" in z.files
                 else int(a["frame"].max()) + 1 if a["frame"].size else 0)
        pid = _choose_person(path, a["person"], person)
        pts, w = np.full((n, L, 2), np.nan), np.zeros((n, L))
        sel = np.flatnonzero(a["person"] == pid)
        f = a["frame"][sel].astype(np.int64)
        pts[f] = a["joints2d_px"][sel]
        w[f] = np.where(a["observed"][sel], a["confidence"][sel], 0.0)
    else:
        obj = read_json(path)
        frames = obj["frames"] if isinstance(obj.get("frames"), list) else [obj]
        people = [f.get("people") or [] for f in frames]
        pid = _choose_person(path, [p.get("id") for ps in people for p in ps], person)
        pts, w = np.full((len(frames), L, 2), np.nan), np.zeros((len(frames), L))
        for i, ps in enumerate(people):
            for p in ps:
                if p.get("id") != pid:
                    continue
                joints = p.get("joints")
                if not isinstance(joints, list) or len(joints) != L:
                    raise ValueError(f"{path}: frame {i}, person {pid}: 'joints' must list {L} joints")
                for j, jt in enumerate(joints):
                    x, y, c = jt.get("x"), jt.get("y"), jt.get("confidence")
                    if x is not None and y is not None:
                        pts[i, j] = (x, y)
                        w[i, j] = float(c or 0.0) if jt.get("observed") else 0.0
    _check_confidence(path, w)
    pts[w <= 0] = np.nan
    return pts, w


def _check_confidence(path, conf):
    bad = np.isfinite(conf) & ((conf < 0) | (conf > 1))
    if bad.any():
        f, j = (int(v) for v in np.argwhere(bad)[0])
        raise ValueError(f"{path}: {int(bad.sum())} confidences lie outside [0, 1] (first: {conf[f, j]:g} at frame "
                         f"{f}, joint {j}); a third value per joint must be a confidence: 3D poses cannot be lifted, "
                         "give 2D keypoints (x, y[, confidence])")


def _load_numpy(path, kind):
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
        raise ValueError(f"{path}: not a readable {kind} file (empty, truncated or another format: "
                         f"{type(e).__name__}: {e})") from None


def load_npz(path, kind="arrays"):
    """Every array of an ``.npz`` as a dict, read whole (no pickles); a missing, empty, truncated or foreign file
    raises ValueError naming the file (never numpy's bare "File is not a zip file")."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path}: no such {kind} file (.npz)")
    z = _load_numpy(path, f"{kind} .npz")
    if not isinstance(z, np.lib.npyio.NpzFile):
        raise ValueError(f"{path}: a single .npy array, not an .npz of named {kind}")
    try:
        with z:
            return {k: z[k] for k in z.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
        raise ValueError(f"{path}: not a readable {kind} .npz file ({type(e).__name__}: {e})") from None


def _keypoints_npy(path, nf, fmt):
    arr = _load_numpy(path, ".npy")
    if not isinstance(arr, np.ndarray) or not np.issubdtype(arr.dtype, np.number):
        raise ValueError(f"{path}: expected an array of numbers, got {getattr(arr, 'dtype', type(arr).__name__)}")
    return arr, None


def _keypoints_npz(path, nf, fmt):
    z = _load_numpy(path, ".npz")
    try:
        with z:
            if "keypoints" not in z.files:
                raise ValueError(f"{path}: array 'keypoints' is missing (found {list(z.files)})")
            return z["keypoints"], (z["confidence"] if "confidence" in z.files else None)
    except (OSError, EOFError, zipfile.BadZipFile) as e:
        raise ValueError(f"{path}: not a readable .npz file ({type(e).__name__}: {e})") from None


def _frame_array(path, frame, where, nf):
    """One JSON frame -> (nf, 2|3) array; errors name the frame and joint."""
    if not isinstance(frame, list) or len(frame) != nf:
        n = len(frame) if isinstance(frame, list) else type(frame).__name__
        raise ValueError(f"{path}: {where} must list {nf} joints, got {n}")
    width = None
    for j, p in enumerate(frame):
        if not isinstance(p, list) or len(p) not in (2, 3):
            raise ValueError(f"{path}: {where}, joint {j}: expected [x, y] or [x, y, confidence], got {p!r}"[:300])
        if width is not None and len(p) != width:
            raise ValueError(f"{path}: {where}, joint {j}: {len(p)} values where joint 0 has {width}")
        width = len(p)
        if not all(v is None or (isinstance(v, (int, float)) and not isinstance(v, bool)) for v in p):
            raise ValueError(f"{path}: {where}, joint {j}: non-numeric value in {p!r}"[:300])
    return np.array([[np.nan if v is None else v for v in p] for p in frame], np.float64)


def _keypoints_json(path, nf, fmt):
    obj = read_json(path)
    if isinstance(obj, dict) and "people" in obj:
        if not obj["people"]:
            raise ValueError(f"{path}: field 'people' is empty")
        flat = obj["people"][0].get("pose_keypoints_2d") if isinstance(obj["people"][0], dict) else None
        if not isinstance(flat, list) or len(flat) != 3 * nf:
            n = len(flat) if isinstance(flat, list) else "none"
            raise ValueError(f"{path}: people[0].pose_keypoints_2d must hold {3 * nf} numbers (x, y, c for the "
                             f"{nf} joints of format {fmt!r}), got {n}")
        return _frame_array(path, [flat[i:i + 3] for i in range(0, len(flat), 3)], "people[0]", nf)[None], None
    if isinstance(obj, dict):
        if "keypoints" not in obj:
            raise ValueError(f"{path}: field 'keypoints' is missing (found {sorted(obj)})")
        obj = obj["keypoints"]
    if not isinstance(obj, list) or not obj:
        raise ValueError(f"{path}: expected a non-empty list of frames")
    if isinstance(obj[0], list) and obj[0] and not isinstance(obj[0][0], list):  # one frame
        return _frame_array(path, obj, "the frame", nf), None
    frames = [_frame_array(path, f, f"frame {i}", nf) for i, f in enumerate(obj)]
    widths = {f.shape[1] for f in frames}
    if len(widths) > 1:
        i = next(i for i, f in enumerate(frames) if f.shape[1] != frames[0].shape[1])
        raise ValueError(f"{path}: frame {i} has {frames[i].shape[1]} values a joint, frame 0 has {frames[0].shape[1]}")
    return np.stack(frames), None


def _keypoints_csv(path, nf, fmt):
    text = _read_text(path, ValueError, path)
    rows = []
    reader = csv.reader(io.StringIO(text))
    for r in reader:
        if any(c.strip() for c in r):
            rows.append((reader.line_num, [c.strip() for c in r]))
    header = bool(rows) and any(c and not _is_number(c) for c in rows[0][1])
    if header and any(c and _is_number(c) for c in rows[0][1]):
        words = [c for c in rows[0][1] if c and not _is_number(c)]
        raise ValueError(f"{path}: line {rows[0][0]} mixes numbers with {len(words)} cell(s) that are not numbers "
                         f"(first: {words[0][:40]!r}): neither a header (every cell a name) nor a frame; fix the typo "
                         "or name every column")
    if header:
        rows = rows[1:]  # a header: a first row with a non-numeric cell
    if not rows:
        raise ValueError(f"{path}: holds no frame")
    width = len(rows[0][1])
    if width not in (2 * nf, 3 * nf):
        raise ValueError(f"{path}: line {rows[0][0]}: each row must hold {2 * nf} or {3 * nf} numbers for format "
                         f"{fmt!r}, got {width}")
    first = rows[0][1]
    if not header and all(c and float(c).is_integer() for c in first) and \
            [int(float(c)) for c in first] in (list(range(width)), list(range(1, width + 1))):
        raise ValueError(f"{path}: line {rows[0][0]} holds the column numbers {first[0]}, {first[1]}, ..., "
                         f"{first[-1]}: a header of numbers cannot be told from a frame; name the columns or "
                         "delete the line")
    vals = np.empty((len(rows), width))
    for i, (line, cells) in enumerate(rows):
        if len(cells) != width:
            raise ValueError(f"{path}: line {line} holds {len(cells)} values where line {rows[0][0]} holds {width}")
        for j, c in enumerate(cells):
            if not c:
                vals[i, j] = np.nan
            elif _is_number(c):
                vals[i, j] = float(c)
            else:
                raise ValueError(f"{path}: line {line}, column {j + 1}: {c[:40]!r} is not a number")
    return vals.reshape(len(rows), nf, -1), None


def _is_number(s):
    try:
        float(s)
        return True
    except ValueError:
        return False
