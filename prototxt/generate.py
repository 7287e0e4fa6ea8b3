"""Write every committed prototxt from the one definition in :mod:`prototxt.netdef`.

    lifting prototxt [--out DIR]        (default: this folder)
"""
from __future__ import annotations

import os

from lifting.files import atomic_write_text

from .netdef import build, solver

HERE = os.path.dirname(os.path.abspath(__file__))


def files(folder=HERE, fusion="paper"):
    """{file name: text} of every generated prototxt. The solver's ``net:`` is the train prototxt of ``folder``:
    relative to the repository root for this folder (the committed files, used from the root as in the Docker
    image), absolute for any other. ``fusion``: the fusion layers' ``"paper"`` (eq. 8, the committed files) or
    ``"authors"`` (their processheatmaps.py; write those to another folder)."""
    out = {}
    for variant, policy in (("full", "finetune"), ("small", "scratch")):
        for extended, stem in ((False, "cpm"), (True, "lifting")):
            for phase in ("train", "deploy"):
                out[f"{stem}_h36m_{variant}_{phase}.prototxt"] = build(variant, extended, phase, lr_policy=policy,
                                                                       fusion=fusion)
    same = os.path.abspath(folder) == os.path.abspath(HERE)
    train = "prototxt/lifting_h36m_full_train.prototxt" if same else \
        os.path.join(os.path.abspath(folder), "lifting_h36m_full_train.prototxt")
    out["lifting_h36m_full_solver.prototxt"] = solver(train, "snapshots/lifting_h36m")
    return out


def write_all(folder=HERE, fusion="paper"):
    if fusion != "paper" and os.path.abspath(folder) == os.path.abspath(HERE):
        raise ValueError("the committed prototxt files use the paper's fusion; write --fusion authors to another "
                         "folder (--out)")
    os.makedirs(folder, exist_ok=True)
    written = []
    for name, text in files(folder, fusion).items():
        path = os.path.join(folder, name)
        atomic_write_text(path, text)
        written.append(path)
    return written
