"""Scoring 2D people against labelled people: PCK at a fraction of the torso size, with detections matched one to
one to labelled people, and the count of "foreign" joints (a skeleton assembled from two people).

Joints are compared in a common order (e.g. the 12 limb joints: shoulders, elbows, wrists, hips, knees, ankles,
left before right). A labelled person's torso size is the distance from its left shoulder to its right hip (COCO-style
PCK), or from its right shoulder to its left hip when that pair is labelled instead; a person with neither pair is
not scored. Matching: the detection and labelled person with the most joints within the threshold are paired first,
each once; a labelled person left without a detection scores 0 on all its labelled joints.
"""
from __future__ import annotations

import numpy as np


def torso_size(joints, labelled, pairs=((0, 7), (1, 6))):
    """Torso size of one labelled person ``joints (M, 2)``, ``labelled (M,)`` bool: the first labelled pair's
    distance (default: left shoulder - right hip, right shoulder - left hip in the 12-joint order); NaN if none."""
    for a, b in pairs:
        if labelled[a] and labelled[b]:
            return float(np.linalg.norm(joints[a] - joints[b]))
    return float("nan")


def match_people(pred, gt, gt_labelled, fraction=0.2):
    """Match detections ``pred`` (list of ``(M, 2)``, NaN = not predicted) to labelled people ``gt`` (list of
    ``(M, 2)``) with ``gt_labelled`` (list of ``(M,)`` bool).

    Returns a dict: ``correct`` / ``labelled`` (joint counts over the scored labelled people), ``pck``,
    ``pairs`` [(pred index, gt index, correct joints)], ``foreign`` (per pair: joints of the detection that miss
    their labelled person but lie within the threshold of another labelled person's same joint), ``unscored``
    (labelled people without a torso size), ``missed`` (scored labelled people without a detection).
    """
    thr = np.array([fraction * torso_size(g, lab) for g, lab in zip(gt, gt_labelled)])
    scored = np.isfinite(thr) & (thr > 0)
    hits = np.zeros((len(pred), len(gt)), np.int64)
    within = {}
    for i, p in enumerate(pred):
        for j, (g, lab) in enumerate(zip(gt, gt_labelled)):
            if not scored[j]:
                continue
            d = np.linalg.norm(np.asarray(p, np.float64) - g, axis=1)
            w = lab & np.isfinite(d) & (d <= thr[j])
            within[i, j] = w
            hits[i, j] = int(w.sum())
    pairs, used_p, used_g = [], set(), set()
    order = sorted(((hits[i, j], i, j) for i in range(len(pred)) for j in range(len(gt)) if scored[j]), reverse=True)
    for h, i, j in order:
        if h <= 0 or i in used_p or j in used_g:
            continue
        used_p.add(i)
        used_g.add(j)
        pairs.append((i, j, int(h)))
    foreign = []
    for i, j, _ in pairs:
        other = np.zeros(len(gt[j]), bool)
        for k in range(len(gt)):
            if k != j and scored[k]:
                other |= within[i, k]
        foreign.append(int(np.count_nonzero(other & ~within[i, j])))
    labelled = int(sum(np.count_nonzero(lab) for lab, s in zip(gt_labelled, scored) if s))
    correct = int(sum(h for _, _, h in pairs))
    return {"correct": correct, "labelled": labelled, "pck": correct / labelled if labelled else float("nan"),
            "pairs": pairs, "foreign": foreign, "unscored": int(np.count_nonzero(~scored)),
            "missed": int(np.count_nonzero(scored)) - len(pairs)}
