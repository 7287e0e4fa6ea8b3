"""What photos and videos share: the inputs of ``lifting estimate`` (files, folders, ``--recursive``), their output
names, reading a photo, and reading a video's frames (containers OpenCV decodes, and animated GIFs through Pillow).

Output names: ``<out>/<stem>.*`` for an input ``<folder>/<stem>.<ext>``; with ``--recursive`` the input's subfolder
below the named folder is kept (``shots/a/b.jpg`` -> ``<out>/a/b.*``). Two inputs that would share a name (``a.jpg``
and ``a.png`` in one folder) are told apart by their extension: ``a.jpg.*`` and ``a.png.*``; only a clash that
remains (the same file named twice) is refused.

An animated GIF (more than one frame) is a video; a GIF of one frame a photo.
"""
from __future__ import annotations

import os

import numpy as np

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".gif", ".ppm", ".pgm")
VIDEO_EXTENSIONS = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv")
#: GIF frames without a duration are shown at this rate by browsers (10 fps)
GIF_DEFAULT_FPS = 10.0


class InputError(ValueError):
    """An input that cannot be used; the message names the file and the reason."""


def is_animated_gif(path):
    if os.path.splitext(path)[1].lower() != ".gif":
        return False
    try:
        from PIL import Image

        with Image.open(path) as im:
            return getattr(im, "n_frames", 1) > 1
    except Exception:  # unreadable: reported as a photo that cannot be read
        return False


def is_video(path):
    """A video container by extension, or an animated GIF."""
    return os.path.splitext(path)[1].lower() in VIDEO_EXTENSIONS or is_animated_gif(path)


def _wanted(folder, name):
    return (os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS + VIDEO_EXTENSIONS
            and os.path.isfile(os.path.join(folder, name))
            and not name.startswith(".") and ".tmp" not in name)  # hidden and temporary files: not inputs


def collect_inputs(paths, recursive=False):
    """Files and folders -> ``[(input path, output stem relative to --out)]``. A folder contributes its images and
    videos sorted by name (with ``recursive`` those of its subfolders too, hidden folders left out). Raises
    :class:`InputError` for a missing path, a folder without any, or two inputs that would write the same outputs."""
    found = []  # (path, relative folder of the output)
    for p in paths:
        p = os.fspath(p)
        if os.path.isdir(p):
            files = []
            if recursive:
                for root, dirs, names in os.walk(p):
                    dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                    rel = os.path.relpath(root, p)
                    files += [(os.path.join(root, f), "" if rel == "." else rel) for f in sorted(names)
                              if _wanted(root, f)]
            else:
                files = [(os.path.join(p, f), "") for f in sorted(os.listdir(p)) if _wanted(p, f)]
            if not files:
                how = " (searched recursively)" if recursive else ""
                raise InputError(f"{p}: the folder holds no image or video{how}"
                                 f" (extensions {', '.join(IMAGE_EXTENSIONS + VIDEO_EXTENSIONS)})"
                                 + ("" if recursive else "; --recursive searches its subfolders"))
            found += files
        elif os.path.exists(p):
            found.append((p, ""))
        else:
            raise InputError(f"{p}: no such file or folder")
    stems = [os.path.join(rel, os.path.splitext(os.path.basename(f))[0]) for f, rel in found]
    counts = {}
    for s in stems:
        counts[s] = counts.get(s, 0) + 1
    out, seen = [], {}
    for (f, rel), s in zip(found, stems):
        stem = os.path.join(rel, os.path.basename(f)) if counts[s] > 1 else s  # a.jpg and a.png: a.jpg.*, a.png.*
        if stem in seen:
            raise InputError(f"{seen[stem]} and {f} would both write {stem}.json; estimate them into different "
                             "--out folders")
        seen[stem] = f
        out.append((f, stem))
    return out


def output_stem(path):
    return os.path.splitext(os.path.basename(path))[0]


def output_paths(out_dir, stem, video, plot=True, exports=()):
    """The files ``lifting estimate`` writes for one input named ``stem`` in ``out_dir``: a video's npz, json (and mp4),
    a photo's json (and png), then ``<stem>.csv`` / ``<stem>.html`` for those ``exports``; with ``"bvh"`` in
    ``exports`` also the ``<stem>.person<id>.bvh`` files already there (ids are known only once people are found, so
    an earlier run's files are what can be replaced)."""
    import glob

    exts = ((".npz", ".json") + ((".mp4",) if plot else ())) if video else ((".json",) + ((".png",) if plot else ()))
    exts += tuple(f".{e}" for e in ("csv", "html") if e in exports)
    base = os.path.join(out_dir, stem)
    paths = [base + ext for ext in exts]
    if "bvh" in exports:
        paths += sorted(glob.glob(glob.escape(base) + ".person*.bvh"))
    return paths


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
            rgb = to_rgb8(path, im)
    except UnidentifiedImageError:
        raise InputError(f"{path}: not a readable image (unknown or corrupt format)") from None
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as e:
        if isinstance(e, InputError):
            raise
        raise InputError(f"{path}: not a readable image ({type(e).__name__}: {e})") from None
    if rgb.ndim != 3 or rgb.shape[2] != 3 or min(rgb.shape[:2]) < 2:
        raise InputError(f"{path}: image of shape {rgb.shape} is too small to hold a person")
    return np.ascontiguousarray(rgb)


def to_rgb8(path, im):
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


class GifCapture:
    """An animated GIF read frame by frame with Pillow, with the part of ``cv2.VideoCapture``'s interface that the
    video path uses: ``read() -> (ok, BGR frame)``, ``release()``, ``isOpened()``; ``fps`` from the first frame's
    duration (:data:`GIF_DEFAULT_FPS` without one) and ``count`` frames."""

    def __init__(self, path):
        from PIL import Image

        self._im = Image.open(path)
        self.count = int(getattr(self._im, "n_frames", 1))
        ms = self._im.info.get("duration") or 0
        self.fps = 1000.0 / ms if ms and ms > 0 else GIF_DEFAULT_FPS
        self._i = 0

    def isOpened(self):
        return self._im is not None

    def read(self):
        if self._im is None or self._i >= self.count:
            return False, None
        try:
            self._im.seek(self._i)
            rgb = np.asarray(self._im.convert("RGB"))
        except (OSError, EOFError, ValueError):
            return False, None
        self._i += 1
        return True, np.ascontiguousarray(rgb[:, :, ::-1])

    def release(self):
        if self._im is not None:
            self._im.close()
            self._im = None


def open_video(path):
    """``(capture, fps, announced frame count)``: ``cv2.VideoCapture`` (or :class:`GifCapture` for an animated GIF);
    :class:`InputError` naming the file when it is empty or no video that can be decoded."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise InputError(f"{path}: no such video file")
    if os.path.getsize(path) == 0:
        raise InputError(f"{path}: empty file (0 bytes), not a video")
    if is_animated_gif(path):
        try:
            cap = GifCapture(path)
        except Exception as e:
            raise InputError(f"{path}: not a readable GIF ({type(e).__name__}: {e})") from None
        return cap, cap.fps, cap.count
    import cv2

    cap = cv2.VideoCapture(path)
    if not cap.isOpened():
        cap.release()
        raise InputError(f"{path}: not a readable video (unknown or corrupt container)")
    fps = cap.get(cv2.CAP_PROP_FPS)
    count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    return cap, (fps if np.isfinite(fps) and 0 < fps < 1000 else None), max(count, 0)


def video_frames(path):
    """Every frame of the video (or animated GIF) ``path`` as RGB ``uint8``, one at a time (:func:`open_video`'s
    decoding and ``cv2.cvtColor``, as the video path reads them)."""
    import cv2

    cap, _, _ = open_video(path)
    try:
        ok, bgr = cap.read()
        while ok:
            yield cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            ok, bgr = cap.read()
    finally:
        cap.release()
