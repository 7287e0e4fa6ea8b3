"""What the command line checks before any work starts, and how it reports what goes wrong.

* Options: :class:`Parser` reports a bad option in one line (exit 2); the ``type=`` helpers bound every number where
  it is parsed (:func:`int_in`, :func:`float_in`) and parse lists and boxes (:func:`subjects`, :func:`box`).
* Files: :func:`check_files` runs before a subcommand does anything: every input exists (a file, or a folder where
  one is expected), every output's folder exists and is writable, no output is a folder, and no output is one of
  the inputs (``os.path.samefile``) or another output, so that bad input never overwrites a file; no output is an
  existing file unless ``--force`` (every subcommand has it), and a resumable run's folder holds that run's record.
* Failures: :func:`report` turns an exception into the one-line message and the exit code of
  :func:`lifting_cli.main.main`: 2 for bad input (``ValueError``, ``OSError``, ...), 1 for an interrupted run (its
  message says where the checkpoint is and how to resume), 3 for an internal error (a bug); the traceback only with
  ``--debug``.
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import traceback
import zipfile

from lifting.errors import Interrupted

#: exit codes
#: most quantised angles a lift may ask for (10,000 is the exhaustive reference; memory grows with the count)
MAX_ANGLES = 10_000
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 1
EXIT_BUG = 3
#: exceptions that mean bad input (a file, an option, a combination): a message, never a traceback
EXPECTED = (ValueError, OSError, EOFError, MemoryError, FloatingPointError, zipfile.BadZipFile)


class Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are one line: ``lifting <cmd>: error: <problem> (lifting <cmd> --help)``."""

    def error(self, message):
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


# ---- option types ---------------------------------------------------------------------------------------------
def int_in(lo, hi=None):
    """``type=``: an integer in ``[lo, hi]`` (no upper bound when ``hi`` is None)."""
    def parse(text):
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if v < lo or (hi is not None and v > hi):
            raise argparse.ArgumentTypeError(f"must be in {lo}..{hi}, got {v}" if hi is not None else
                                             f"must be >= {lo}, got {v}")
        return v

    parse.__name__ = "integer"
    return parse


def float_in(lo=None, hi=None, lo_open=False, hi_open=False):
    """``type=``: a finite number in the interval from ``lo`` to ``hi`` (open ends where said)."""
    def parse(text):
        try:
            v = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        bad = not math.isfinite(v) or (lo is not None and (v <= lo if lo_open else v < lo)) or \
            (hi is not None and (v >= hi if hi_open else v > hi))
        if bad:
            span = f"{'(' if lo_open else '['}{'-inf' if lo is None else lo}, {'inf' if hi is None else hi}" \
                   f"{')' if hi_open or hi is None else ']'}"
            raise argparse.ArgumentTypeError(f"must be a finite number in {span}, got {text}")
        return v

    parse.__name__ = "number"
    return parse


def noise_2d(text):
    """``type=`` of ``--noise-2d``: a fraction of the person's 2D size in (0, 1], or 'model' (None: each component's
    own noise variance)."""
    if text == "model":
        return None
    return float_in(0, 1, lo_open=True)(text)


def subjects(text):
    """``type=``: comma-separated Human3.6M subject names such as ``S1,S5`` (the one subject-list parser); an empty
    list is an error (not 'everyone'), and so is a name that is not ``S`` and a number."""
    out = [s.strip() for s in text.split(",") if s.strip()]
    if not out:
        raise argparse.ArgumentTypeError(f"names no subject: {text!r} (e.g. S1,S5,S6,S7,S8)")
    bad = [s for s in out if not (s[:1] == "S" and s[1:].isdigit())]
    if bad:
        raise argparse.ArgumentTypeError(f"expected subjects like S1,S5,S6; got {text!r} ({', '.join(bad)})")
    return out


def read_camera(spec):
    """``--camera``: None/"upright" -> None (the upright camera); else :func:`lifting.cameras.read_rotation_json`."""
    if spec is None or spec == "upright":
        return None
    from lifting.cameras import read_rotation_json

    return read_rotation_json(spec)


def box(text):
    """``type=``: a person box ``x,y,w,h`` in image pixels (finite, positive width and height)."""
    parts = text.split(",")
    try:
        vals = [float(v) for v in parts]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected x,y,w,h (four numbers), got {text!r}") from None
    if len(vals) != 4 or not all(math.isfinite(v) for v in vals) or vals[2] <= 0 or vals[3] <= 0:
        raise argparse.ArgumentTypeError(f"expected x,y,w,h: four finite numbers, w and h > 0; got {text!r}")
    return vals


# ---- files ------------------------------------------------------------------------------------------------------
def _same(a, b):
    if os.path.exists(a) and os.path.exists(b):
        return os.path.samefile(a, b)
    return os.path.realpath(a) == os.path.realpath(b)


def _writable_folder(flag, path, folder):
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".lifting-write-check-")
    except OSError as e:
        raise ValueError(f"{flag} {path}: cannot write in folder {folder} ({e.strerror})") from None
    os.close(fd)
    os.unlink(tmp)


def check_files(inputs=(), outputs=(), input_folders=(), output_folders=(), force=None, run_folders=(), resumed=()):
    """Check a subcommand's files before it starts; every argument is a list of ``(flag, path)`` (None paths are
    skipped). ``inputs``: files that must exist; ``input_folders``: folders that must exist; ``outputs``: files to
    write (their folder must exist and be writable -- checked where it exists already; not a folder; not an input,
    not another output); ``output_folders``: folders to create or fill (not a file; the nearest existing parent
    writable).

    Outputs never destroy a user's file: with ``force`` given (the subcommand's ``--force``), an output that exists
    already is refused unless ``force`` is true -- a run replaces only files it made itself. ``run_folders``:
    ``(flag, folder, marker)`` of resumable runs: a folder that exists and holds anything must hold ``marker`` (the
    record a run of this subcommand writes first), so that a run never fills a folder of other files (unless
    ``force``); ``resumed``: the flags of outputs an interrupted run of the same command made (a checkpoint), which
    may exist. Raises ValueError naming the option and the problem."""
    inputs = [(f, os.fspath(p)) for f, p in inputs if p is not None]
    outputs = [(f, os.fspath(p)) for f, p in outputs if p is not None]
    for i, (flag, path) in enumerate(outputs):  # before any folder is looked at: a clash is a clash in any folder
        for oflag, opath in outputs[:i]:
            if _same(path, opath):
                raise ValueError(f"{flag} and {oflag} name the same file {path}")
    refuse_existing = force is not None and not force
    for flag, path in inputs:
        if not os.path.exists(path):
            raise ValueError(f"{flag} {path}: no such file")
        if os.path.isdir(path):
            raise ValueError(f"{flag} {path}: is a folder, not a file")
    for flag, path in input_folders:
        if path is not None and not os.path.isdir(path):
            raise ValueError(f"{flag} {path}: " + ("is a file, not a folder" if os.path.exists(path) else
                                                   "no such folder"))
    for flag, path in output_folders:
        if path is None:
            continue
        if os.path.exists(path) and not os.path.isdir(path):
            raise ValueError(f"{flag} {path}: is a file, not a folder")
        parent = os.path.abspath(path)
        while not os.path.exists(parent):
            parent = os.path.dirname(parent)
        if not os.path.isdir(parent):
            raise ValueError(f"{flag} {path}: {parent} is a file, not a folder")
        _writable_folder(flag, path, parent)
    made = {os.path.abspath(p) for _, p in output_folders if p is not None}
    for flag, path in outputs:
        if os.path.isdir(path):
            raise ValueError(f"{flag} {path}: is a folder; give a file name")
        folder = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(folder):
            if folder in made:  # created by the run (an output folder, checked above)
                continue
            raise ValueError(f"{flag} {path}: folder {folder} does not exist")
        _writable_folder(flag, path, folder)
        for iflag, ipath in inputs:
            if _same(path, ipath):
                raise ValueError(f"{flag} {path} is also the input {iflag}: refusing to overwrite an input")
    if refuse_existing:
        for flag, path in outputs:
            if flag not in resumed and os.path.lexists(path) and not os.path.isdir(path):
                raise ValueError(f"{flag} {path}: the file exists and this run did not make it; refusing to replace "
                                 "it (give another name or folder, or --force to replace it)")
        for flag, folder, marker in run_folders:
            if folder is None or not os.path.isdir(folder):
                continue
            held = [f for f in os.listdir(folder) if f != marker]
            if held and not os.path.exists(os.path.join(folder, marker)):
                raise ValueError(f"{flag} {folder}: the folder holds other files ({', '.join(sorted(held)[:3])}"
                                 f"{', ...' if len(held) > 3 else ''}) and no {marker} of an earlier run of this "
                                 "command; refusing to write into it (give a new or empty folder, or --force)")


# ---- failures ---------------------------------------------------------------------------------------------------
def _message(e):
    if isinstance(e, OSError) and e.filename is not None and e.strerror:
        text = f"{e.filename}: {e.strerror}"
    elif isinstance(e, MemoryError):
        text = f"not enough memory ({e}); lower the sizes asked for"
    else:
        text = str(e) or type(e).__name__
    return " ".join(text.split())  # one line


def _close_progress_bars():
    """End the progress bars an exception left open, so that the message starts on a line of its own."""
    tqdm = sys.modules.get("tqdm")
    for bar in list(getattr(getattr(tqdm, "tqdm", None), "_instances", None) or []):
        bar.close()


def report(command, e, debug=False, stream=None):
    """Print the one-line message for ``e`` (after its traceback with ``debug``); returns the exit code."""
    stream = stream or sys.stderr
    _close_progress_bars()
    if debug:
        traceback.print_exception(e, file=stream)
    if isinstance(e, KeyboardInterrupt):
        text = _message(e) if isinstance(e, Interrupted) else "interrupted"
        print(f"lifting {command}: {text}", file=stream)
        return EXIT_INTERRUPTED
    if isinstance(e, EXPECTED):
        print(f"lifting {command}: error: {_message(e)}", file=stream)
        return EXIT_BAD_INPUT
    print(f"lifting {command}: internal error (a bug, please report it): {type(e).__name__}: {_message(e)}"
          + ("" if debug else "; rerun with --debug for the traceback"), file=stream)
    return EXIT_BUG
