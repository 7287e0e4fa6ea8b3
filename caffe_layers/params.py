"""What the three Python layers share: their ``param_str`` read (JSON, unknown keys refused), the check that their
input maps are finite, and one loaded pose model per file for every layer of a process.
"""
import json

import numpy as np

from lifting.model import load_model

_MODELS = {}  # one loaded model per file for all the layers of a process


def read_param_str(layer, known):
    """``layer.param_str`` as a dict (JSON; empty -> {}); a key outside ``known`` raises ValueError naming the layer,
    the unknown keys and the known ones."""
    p = json.loads(layer.param_str) if layer.param_str else {}
    unknown = set(p) - set(known)
    if unknown:
        raise ValueError(f"{type(layer).__name__}: unknown param_str keys {sorted(unknown)}; known: {sorted(known)}")
    return p


def check_finite(layer, maps):
    """Raise FloatingPointError on non-finite belief maps. Raised in a forward pass, it stops a solver step before
    its backward pass: in CPU mode Caffe's max pooling writes outside its buffer when it back-propagates through a
    window of NaN (its argmax index stays -1), which corrupts memory and aborts the process later."""
    bad = ~np.isfinite(maps)
    if bad.any():
        raise FloatingPointError(f"{type(layer).__name__}: {int(bad.sum())} of {bad.size} belief-map values are NaN "
                                 "or inf (the network diverged, or its weights hold NaN)")


def shared_model(path):
    """The pose model of file ``path`` (None: the shipped default), loaded once per process."""
    if path not in _MODELS:
        _MODELS[path] = load_model(path)
    return _MODELS[path]
