"""The test set the paper's authors ran (``lifting h36m-prepare --protocol authors-test``), as found in their own
per-frame errors (``../shared/data/authors_table1``: README and ``sequences.csv``, one row per sequence):

* subjects S9 then S11; per subject the actions in Human3.6M's id order (:data:`ACTION_ORDER`: Directions,
  Discussion, Eating, Greeting, Phoning, Posing, Purchases, Sitting, SittingDown, Smoking, TakingPhoto, Waiting,
  Walking, WalkDog, WalkTogether), sub-action 1 then 2;
* per sequence one block per camera (54138969, 55011271, 58860488, 60457274), each every 5th frame of the 50 fps data
  starting at the first: ``ceil(n / 5)`` frames for ``n`` pose frames;
* all four cameras except camera 54138969 of S11 Directions sub-action 2 (the release's corrupt video, skipped by
  name in :data:`model_fitting.h36m.KNOWN_DEFECTS`);
* S11 SittingDown sub-action 2 cut to its first 401 frames per camera (:data:`CUTS`), not ``ceil(3926 / 5) = 786``:
  the authors' blocks of that sequence hold 401 frames; why, and which part of the sequence they are, their files do
  not say. We take the first 401 (frames 0, 5, ..., 2000): the simplest reading, unverified.

Sub-action numbers: the release names the two recordings of an action ``<Action>``, ``<Action> 1`` or ``<Action> 2``
(which spelling a subject has varies). :func:`subaction_order` numbers them: the numbered files by their number, the
file without a number last. This is what the authors' data shows where it can be checked (S11 "Directions", whose
camera 54138969 video is the corrupt one, is their sub-action 2, beside "Directions 1"); elsewhere the per-sequence
frame counts printed by the prepare summary can be compared with ``sequences.csv``.
"""
from __future__ import annotations

import math

from .h36m import KNOWN_DEFECTS

#: the protocol's name on the command line
NAME = "authors-test"
SUBJECTS = ("S9", "S11")
STEP = 5
#: Human3.6M's action ids, in order (our action keys)
ACTION_ORDER = ("directions", "discussion", "eating", "greeting", "phoning", "posing", "purchases", "sitting",
                "sittingdown", "smoking", "takingphoto", "waiting", "walking", "walkingdog", "walkingtogether")
#: (subject, action key, sub-action) -> frames per camera kept, as found in the authors' per-frame errors
CUTS = {("S11", "sittingdown", 2): 401}


def subaction_order(sequences):
    """``{Sequence: sub-action number (1, 2, ...)}`` for the sequences of each (subject, action): numbered file names
    by their number, the one without a number last (see the module's docstring)."""
    groups = {}
    for s in sequences:
        groups.setdefault((s.subject, s.action), []).append(s)
    out = {}
    for group in groups.values():
        ranked = sorted(group, key=lambda s: (s.subaction == 0, s.subaction, s.name))
        out.update({s: k + 1 for k, s in enumerate(ranked)})
    return out


def order_sequences(sequences):
    """The sequences in the authors' order (S9 then S11, action id order, sub-action 1 then 2), each with its
    sub-action number: ``[(Sequence, subaction)]``. Sequences of other subjects or actions are refused by name."""
    sub = subaction_order(sequences)
    bad = [f"{s.subject} {s.name}" for s in sequences if s.subject not in SUBJECTS or s.action not in ACTION_ORDER]
    if bad:
        raise ValueError(f"the {NAME} protocol covers {', '.join(SUBJECTS)} and the 15 actions; got {bad[:3]}")
    ranked = sorted(sequences, key=lambda s: (SUBJECTS.index(s.subject), ACTION_ORDER.index(s.action), sub[s]))
    return [(s, sub[s]) for s in ranked]


def frames_for(subject, action, subaction, camera, n, sequence_name=None):
    """The 50 fps frame indices the authors evaluated for one camera of a sequence of ``n`` pose frames (``[]`` for
    the skipped camera): every :data:`STEP` th from the first, cut where :data:`CUTS` says."""
    if sequence_name is not None and (subject, sequence_name, camera) in KNOWN_DEFECTS:
        return []
    frames = list(range(0, int(n), STEP))
    cut = CUTS.get((subject, action, int(subaction)))
    return frames[:cut] if cut is not None else frames


def frame_counts(sequences, lengths, cameras):
    """Per sequence, the frames per camera and the number of camera blocks, in the authors' order:
    ``[(subject, action, subaction, frames_per_camera, camera_blocks)]`` (the columns of ``sequences.csv``).
    ``lengths``: ``{Sequence: pose frames}``."""
    rows = []
    for seq, sub in order_sequences(sequences):
        per = [len(frames_for(seq.subject, seq.action, sub, c, lengths[seq], seq.name)) for c in cameras]
        kept = [k for k in per if k]
        rows.append((seq.subject, seq.action, sub, kept[0] if kept else 0, len(kept)))
    return rows


def expected_per_camera(n, cut=None):
    """``ceil(n / 5)`` (or the cut): the frames per camera of a sequence of ``n`` pose frames."""
    k = math.ceil(int(n) / STEP)
    return min(k, cut) if cut is not None else k
