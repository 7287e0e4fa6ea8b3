"""Write every committed prototxt from the one definition in :mod:`prototxt.netdef`.

    lifting prototxt [--out DIR]        (default: this folder)
"""
from __future__ import annotations

import os

from lifting.files import atomic_write_text

from .netdef import build, solver

HERE = os.path.dirname(os.path.abspath(__file__))


def files():
    """{file name: text} of every generated prototxt."""
    out = {}
    for variant, policy in (("full", "finetune"), ("small", "scratch")):
        for extended, stem in ((False, "cpm"), (True, "lifting")):
            for phase in ("train", "deploy"):
                out[f"{stem}_h36m_{variant}_{phase}.prototxt"] = build(variant, extended, phase, lr_policy=policy)
    out["lifting_h36m_full_solver.prototxt"] = solver("prototxt/lifting_h36m_full_train.prototxt",
                                                      "snapshots/lifting_h36m")
    return out


def write_all(folder=HERE):
    os.makedirs(folder, exist_ok=True)
    written = []
    for name, text in files().items():
        path = os.path.join(folder, name)
        atomic_write_text(path, text)
        written.append(path)
    return written
