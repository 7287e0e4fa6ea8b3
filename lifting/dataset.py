"""The prepared training/testing dataset (written by ``lifting h36m-prepare``, read by the data layer): a folder with
``dataset.json`` (the manifest) and one HDF5 shard per source sequence under ``shards/``.

A sample is a person crop with its labels. Shard datasets (N samples):

* ``jpeg`` (N,) variable-length uint8: the crop as JPEG bytes (BGR when decoded by OpenCV);
* ``joints2d`` (N, 17, 2) float32: the 2D joints in crop pixels; ``visible`` (N, 17) uint8 (1: inside the original
  frame);
* ``objpos`` (N, 2) float32: the person centre in crop pixels (the pelvis); ``box`` (N,) float32: the person box side
  in crop pixels;
* ``E`` (N, 3, 3) float64: the camera rotation the lifting layer takes (our y-up world -> camera axes);
* ``joints3d_camera_mm`` (N, 17, 3) float32: the 3D joints in the camera frame, mm;
* ``crop_transform`` (N, 3) float64: ``(scale, ox, oy)`` with ``crop = frame * scale + (ox, oy)``;
* ``frame`` (N,) int32: the frame index in the 50 fps source; ``camera`` (N,) bytes: the camera id;
* optional ``crop_scale_y`` (N,) float64: the vertical scale where the two axes scale differently (the authors'
  crop, clamped at a frame's edge): then ``crop_y = frame_y * crop_scale_y + oy`` and :meth:`PreparedDataset.meta`
  gives ``crop_transform`` as ``(scale, ox, oy, scale_y)``.

Shard attributes: ``subject``, ``action`` (our action key), ``sequence`` (the source name, e.g. ``"Directions 1"``),
``format_version``. Every file is written atomically.
"""
from __future__ import annotations

import json
import os

import numpy as np

from . import skeleton
from .files import atomic_path, atomic_write_text, json_safe, json_text, open_h5, read_json

FORMAT_VERSION = 1
MANIFEST = "dataset.json"
NJ = skeleton.NUM_JOINTS
#: per-sample arrays of a shard: name -> (shape after N, dtype)
FIELDS = {
    "joints2d": ((NJ, 2), np.float32),
    "visible": ((NJ,), np.uint8),
    "objpos": ((2,), np.float32),
    "box": ((), np.float32),
    "E": ((3, 3), np.float64),
    "joints3d_camera_mm": ((NJ, 3), np.float32),
    "crop_transform": ((3,), np.float64),
    "frame": ((), np.int32),
    "camera": ((), "S8"),
}
#: per-sample arrays a shard may hold (see the module's docstring)
OPTIONAL_FIELDS = {"crop_scale_y": ((), np.float64)}


class DatasetError(ValueError):
    """A prepared dataset cannot be used; the message names the file and the field."""


def write_shard(path, jpegs, arrays, subject, action, sequence, report=None):
    """Write one shard atomically. ``jpegs``: list of N ``bytes``; ``arrays``: every name of :data:`FIELDS` with
    ``N`` rows of its shape; ``report``: a JSON-able record kept with the shard (:func:`shard_info`)."""
    import h5py

    n = len(jpegs)
    checked = {}
    for name, (shape, dtype) in FIELDS.items():
        if name not in arrays:
            raise DatasetError(f"{path}: field {name!r} is missing")
        a = np.asarray(arrays[name]).astype(dtype)
        if a.shape != (n,) + shape:
            raise DatasetError(f"{path}: field {name!r} must have shape {(n,) + shape}, got {a.shape}")
        checked[name] = a
    for name, (shape, dtype) in OPTIONAL_FIELDS.items():
        if name in arrays:
            a = np.asarray(arrays[name]).astype(dtype)
            if a.shape != (n,) + shape:
                raise DatasetError(f"{path}: field {name!r} must have shape {(n,) + shape}, got {a.shape}")
            checked[name] = a
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with atomic_path(path) as tmp:
        with h5py.File(tmp, "w") as f:
            ds = f.create_dataset("jpeg", (n,), dtype=h5py.vlen_dtype(np.uint8))
            for i, b in enumerate(jpegs):
                ds[i] = np.frombuffer(b, np.uint8)
            for name, a in checked.items():
                f.create_dataset(name, data=a)
            f.attrs.update(subject=subject, action=action, sequence=sequence, format_version=FORMAT_VERSION,
                           report=json_text(report or {}, indent=None))


def shard_info(path):
    """``(samples, report)`` of a written shard; DatasetError names a shard that cannot be read."""
    with open_h5(path, DatasetError, "HDF5 shard") as f:
        if f.attrs.get("format_version") != FORMAT_VERSION or "jpeg" not in f:
            raise DatasetError(f"{path}: not a shard of format_version {FORMAT_VERSION}")
        return int(f["jpeg"].shape[0]), json.loads(f.attrs.get("report", "{}"))


def write_manifest(folder, manifest):
    """``dataset.json`` (atomic)."""
    text = json.dumps(json_safe(manifest), indent=1, sort_keys=True, allow_nan=False)
    atomic_write_text(os.path.join(folder, MANIFEST), text)


def read_manifest(folder):
    path = os.path.join(os.fspath(folder), MANIFEST)
    if not os.path.exists(path):
        raise DatasetError(f"{folder}: no {MANIFEST}: not a prepared dataset (make one with `lifting h36m-prepare`)")
    m = read_json(path, DatasetError)
    for key in ("format_version", "shards", "complete"):
        if key not in m:
            raise DatasetError(f"{path}: field {key!r} is missing")
    if m["format_version"] != FORMAT_VERSION:
        raise DatasetError(f"{path}: format_version {m['format_version']!r}, this code reads {FORMAT_VERSION!r}")
    if not m["complete"]:
        raise DatasetError(f"{path}: the dataset is incomplete (an interrupted `lifting h36m-prepare`: run the same "
                           "command again to finish it)")
    check_shard_list(path, m["shards"])
    return m


def inside(folder, rel, path, field):
    """``folder/rel`` for a relative path ``rel`` read from the file ``path`` (its ``field``), refused unless it stays
    inside ``folder`` (no absolute path, no ``..`` out of it, no link leading out): a file's contents never make the
    program read or write elsewhere."""
    if not isinstance(rel, str) or not rel:
        raise DatasetError(f"{path}: {field} must be a non-empty relative path, got {rel!r}"[:300])
    if os.path.isabs(rel) or "\0" in rel:
        raise DatasetError(f"{path}: {field} {rel!r} is an absolute path; paths in this file must stay inside "
                           f"{folder}")
    base = os.path.realpath(folder)
    full = os.path.realpath(os.path.join(base, rel))
    if os.path.commonpath([base, full]) != base:
        raise DatasetError(f"{path}: {field} {rel!r} leads outside {folder}; paths in this file must stay inside it")
    return os.path.join(folder, rel)


def check_shard_list(path, shards):
    """The manifest's ``shards``: a list of ``{"file": relative path inside the folder, "samples": int >= 0, ...}``,
    no file listed twice (it would count twice)."""
    if not isinstance(shards, list):
        raise DatasetError(f"{path}: field 'shards' must be a list, got {type(shards).__name__}")
    folder = os.path.dirname(os.fspath(path))
    seen = {}
    for i, s in enumerate(shards):
        if not isinstance(s, dict) or "file" not in s or "samples" not in s:
            raise DatasetError(f"{path}: shards[{i}] must be an object with fields 'file' and 'samples'")
        n = s["samples"]
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise DatasetError(f"{path}: shards[{i}].samples must be a whole number >= 0, got {n!r}"[:300])
        full = os.path.realpath(inside(folder, s["file"], path, f"shards[{i}].file"))
        if full in seen:
            raise DatasetError(f"{path}: shards[{i}] and shards[{seen[full]}] list the same file {s['file']!r}: its "
                               "samples would count twice")
        seen[full] = i


class PreparedDataset:
    """Read access to a prepared dataset: ``len()``, :meth:`sample` (JPEG bytes and labels), :meth:`meta`.

    HDF5 files are opened lazily and per process, so an instance can be handed to worker processes."""

    def __init__(self, folder):
        self.folder = os.fspath(folder)
        self.manifest = read_manifest(self.folder)
        # read_manifest has checked every shard path (check_shard_list: inside the folder, listed once)
        self.shards = [os.path.join(self.folder, s["file"]) for s in self.manifest["shards"]]
        counts = np.array([int(s["samples"]) for s in self.manifest["shards"]], np.int64)
        if len(counts) == 0 or counts.sum() == 0:
            raise DatasetError(f"{self.folder}: the dataset holds no sample")
        self.offsets = np.concatenate([[0], np.cumsum(counts)])
        self._open, self._label_cache = {}, {}
        for path, n in zip(self.shards, counts):  # every shard is there and as long as the manifest says
            f = self._file(path)
            for name in ("subject", "action", "sequence"):
                if name not in f.attrs:
                    raise DatasetError(f"{path}: attribute {name!r} is missing (not a shard of `lifting h36m-prepare`)")
            for name in ("jpeg",) + tuple(FIELDS):
                if name not in f:
                    raise DatasetError(f"{path}: field {name!r} is missing")
                shape = (int(n),) + (FIELDS[name][0] if name in FIELDS else ())
                if f[name].shape != shape:
                    raise DatasetError(f"{path}: field {name!r} has shape {f[name].shape}, the manifest says {shape}")
            for name, (shape, _) in OPTIONAL_FIELDS.items():
                if name in f and f[name].shape != (int(n),) + shape:
                    raise DatasetError(f"{path}: field {name!r} has shape {f[name].shape}, the manifest says "
                                       f"{(int(n),) + shape}")

    def __len__(self):
        return int(self.offsets[-1])

    def __getstate__(self):
        return {k: v for k, v in self.__dict__.items() if k not in ("_open", "_label_cache")}

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._open, self._label_cache = {}, {}

    def _file(self, path):
        key = (os.getpid(), path)
        if key not in self._open:
            self._open[key] = open_h5(path, DatasetError, f"HDF5 shard (listed in {MANIFEST})")
        return self._open[key]

    def locate(self, i):
        """Global index -> (shard path, index in the shard)."""
        if not 0 <= i < len(self):
            raise IndexError(f"sample {i} out of range 0..{len(self) - 1}")
        s = int(np.searchsorted(self.offsets, i, side="right") - 1)
        return self.shards[s], int(i - self.offsets[s])

    def _labels(self, path):
        """The small per-sample arrays of a shard, read whole once (about 240 bytes a sample)."""
        if path not in self._label_cache:
            f = self._file(path)
            self._label_cache[path] = {k: f[k][()] for k in ("joints2d", "visible", "objpos", "box", "E")}
        return self._label_cache[path]

    def sample(self, i):
        """dict(jpeg bytes, joints2d (17, 2), visible (17,), objpos (2,), box, E (3, 3))."""
        path, j = self.locate(i)
        a = self._labels(path)
        return {"jpeg": self._file(path)["jpeg"][j].tobytes(), "joints2d": a["joints2d"][j].astype(np.float64),
                "visible": a["visible"][j], "objpos": a["objpos"][j].astype(np.float64), "box": float(a["box"][j]),
                "E": a["E"][j]}

    def meta(self, i):
        """dict(subject, action, sequence, camera, frame, joints3d_camera_mm (17, 3), crop_transform (3,) or, with
        ``crop_scale_y``, (4,))."""
        path, j = self.locate(i)
        f = self._file(path)
        ct = f["crop_transform"][j]
        if "crop_scale_y" in f:
            ct = np.append(ct, f["crop_scale_y"][j])
        return {"subject": str(f.attrs["subject"]), "action": str(f.attrs["action"]),
                "sequence": str(f.attrs["sequence"]), "camera": f["camera"][j].decode(), "frame": int(f["frame"][j]),
                "joints3d_camera_mm": f["joints3d_camera_mm"][j], "crop_transform": ct}

    def close(self):
        for f in self._open.values():
            f.close()
        self._open, self._label_cache = {}, {}
