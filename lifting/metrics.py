"""Evaluation protocols: MPJPE (protocol 1), P-MPJPE (protocol 2), N-MPJPE, 2D error, per-action aggregation.

Definitions as the field uses them for Human3.6M: MPJPE from Ionescu et al., "Human3.6M: Large Scale Datasets and
Predictive Methods for 3D Human Sensing in Natural Environments", TPAMI 36(7), 2014 (sec. 5.1, "MPJPE"); the names
"protocol 1" (root-aligned, no other alignment) and "protocol 2" (after a similarity Procrustes alignment) from
Martinez et al., "A simple yet effective baseline for 3d human pose estimation", ICCV 2017 (sec. 4.1). Formatting
them as tables is :mod:`lifting.report`'s job."""
from __future__ import annotations

import numpy as np

from .skeleton import H36M_ACTIONS, action_key

def _check(pred, gt, dims=3):
    pred = np.asarray(pred, np.float64)
    gt = np.asarray(gt, np.float64)
    if pred.shape != gt.shape or pred.ndim < 2 or pred.shape[-1] != dims:
        raise ValueError(f"pred and gt must have the same shape (..., joints, {dims}); got {pred.shape} and {gt.shape}")
    return pred, gt


def mpjpe(pred, gt, root=0):
    """Protocol 1 (MPJPE; Ionescu et al. TPAMI 2014, sec. 5.1; "protocol #1" of Martinez et al. ICCV 2017): the mean
    over joints of the Euclidean distance between predicted and true joints after subtracting each pose's root joint
    (joint ``root``, the Hip), no rotation or scale alignment. ``(N, J, 3)`` -> ``(N,)``, in the unit of the input.

    ``root=None`` skips the root alignment.
    """
    pred, gt = _check(pred, gt)
    if root is not None:
        pred = pred - pred[..., root:root + 1, :]
        gt = gt - gt[..., root:root + 1, :]
    return np.linalg.norm(pred - gt, axis=-1).mean(-1)


def procrustes_align(pred, gt, allow_reflection=False, estimate_scale=True):
    """Similarity transform of ``pred (N, J, 3)`` onto ``gt``: returns ``(aligned, R (N,3,3), s (N,), t (N,3))``.

    ``aligned = s * pred @ R^T + t`` minimises the squared error; with ``allow_reflection=False`` R is a proper
    rotation (det +1).
    """
    pred, gt = _check(pred, gt)
    mp, mg = pred.mean(-2, keepdims=True), gt.mean(-2, keepdims=True)
    X, Y = pred - mp, gt - mg
    H = np.einsum("nji,njk->nik", X, Y)  # (N, 3, 3) = X^T Y
    U, S, Vt = np.linalg.svd(H)
    d = np.ones(S.shape)
    if not allow_reflection:
        d[..., -1] = np.sign(np.linalg.det(np.einsum("nij,njk->nik", U, Vt)))
        d[d == 0] = 1
    R = np.einsum("nji,nj,nkj->nik", Vt, d, U)  # V diag(d) U^T
    if estimate_scale:
        s = np.sum(S * d, -1) / np.maximum(np.sum(X**2, axis=(-2, -1)), 1e-300)
    else:
        s = np.ones(S.shape[:-1])
    t = mg[..., 0, :] - s[..., None] * np.einsum("nij,nj->ni", R, mp[..., 0, :])
    aligned = s[..., None, None] * np.einsum("nij,nlj->nli", R, pred) + t[..., None, :]
    return aligned, R, s, t


def p_mpjpe(pred, gt, allow_reflection=False):
    """Protocol 2 (P-MPJPE; "protocol #2" of Martinez et al. ICCV 2017, sec. 4.1): the MPJPE after aligning each
    predicted pose to the truth by the similarity transform (rotation, uniform scale, translation) that minimises the
    squared error (Procrustes; closed form of Umeyama, TPAMI 1991), no reflection by default. -> ``(N,)``."""
    aligned, *_ = procrustes_align(pred, gt, allow_reflection=allow_reflection)
    return mpjpe(aligned, gt, root=None)


def n_mpjpe(pred, gt, root=0):
    """MPJPE after the optimal scale only (Rhodin et al.), root-aligned. -> ``(N,)``."""
    pred, gt = _check(pred, gt)
    p = pred - pred[..., root:root + 1, :]
    g = gt - gt[..., root:root + 1, :]
    s = np.sum(p * g, axis=(-2, -1)) / np.maximum(np.sum(p * p, axis=(-2, -1)), 1e-300)
    return mpjpe(s[..., None, None] * p, g, root=None)


def pixel_error(pred2d, gt2d, weights=None):
    """2D pixel error (the paper's Table 2): the mean over joints with weight > 0 of the Euclidean distance between
    predicted and true 2D joints, in the pixels of the inputs (give original-frame pixels to compare with the
    paper). ``(N, J, 2)`` -> ``(N,)``."""
    pred2d, gt2d = _check(pred2d, gt2d, dims=2)
    d = np.linalg.norm(pred2d - gt2d, axis=-1)
    if weights is None:
        return d.mean(-1)
    w = (np.asarray(weights) > 0).astype(np.float64)
    return np.sum(d * w, -1) / np.maximum(w.sum(-1), 1)


def per_action(errors, actions):
    """Aggregate per-frame errors ``(N,)`` by action (:func:`lifting.skeleton.action_key` of each name).

    Returns ``(table, action_mean, frame_mean)``: ``table`` maps action key -> (mean, frames), in the column order
    of the paper's Table 1 (:data:`lifting.skeleton.H36M_ACTIONS`; other names after them, sorted);
    ``action_mean`` is the unweighted mean of the action means; ``frame_mean`` weighs every frame equally. Label
    them as such. The paper's Table 1 "Average" is not the mean of its own action columns (those give 93.26 and
    88.53 mm for its two rows, it prints 92.96 and 88.39), so it is compared with the frame-weighted average.
    """
    errors = np.asarray(errors, np.float64)
    keys = np.array([action_key(a) for a in actions])
    if keys.shape != errors.shape:
        raise ValueError(f"errors {errors.shape} and actions {keys.shape} differ in length")
    order = [k for k, _ in H36M_ACTIONS]
    present = set(keys.tolist())
    table = {}
    for k in [k for k in order if k in present] + sorted(present - set(order)):
        e = errors[keys == k]
        table[str(k)] = (float(e.mean()), int(e.size))
    action_mean = float(np.mean([m for m, _ in table.values()])) if table else float("nan")
    return table, action_mean, float(errors.mean()) if errors.size else float("nan")
