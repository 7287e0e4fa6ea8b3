"""Evaluation protocols: MPJPE (protocol 1), P-MPJPE (protocol 2), N-MPJPE, 2D error, per-action aggregation.

Formatting them as tables is :mod:`lifting.report`'s job."""
from __future__ import annotations

import numpy as np

from .skeleton import action_key

def _check(pred, gt, dims=3):
    pred = np.asarray(pred, np.float64)
    gt = np.asarray(gt, np.float64)
    if pred.shape != gt.shape or pred.ndim < 2 or pred.shape[-1] != dims:
        raise ValueError(f"pred and gt must have the same shape (..., joints, {dims}); got {pred.shape} and {gt.shape}")
    return pred, gt


def mpjpe(pred, gt, root=0):
    """Protocol 1: mean per-joint position error after aligning the root joints. ``(N, J, 3)`` -> ``(N,)``.

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
    """Protocol 2: MPJPE after a similarity Procrustes alignment (no reflection by default). -> ``(N,)``."""
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
    """Mean 2D distance per frame over joints with weight > 0: ``(N, J, 2)`` -> ``(N,)``."""
    pred2d, gt2d = _check(pred2d, gt2d, dims=2)
    d = np.linalg.norm(pred2d - gt2d, axis=-1)
    if weights is None:
        return d.mean(-1)
    w = (np.asarray(weights) > 0).astype(np.float64)
    return np.sum(d * w, -1) / np.maximum(w.sum(-1), 1)


def per_action(errors, actions):
    """Aggregate per-frame errors ``(N,)`` by action (:func:`lifting.skeleton.action_key` of each name).

    Returns ``(table, action_mean, frame_mean)``: ``table`` maps action key -> (mean, frames); ``action_mean`` is
    the mean of the action means (the paper's "Avg"); ``frame_mean`` weighs every frame equally.
    """
    errors = np.asarray(errors, np.float64)
    keys = np.array([action_key(a) for a in actions])
    if keys.shape != errors.shape:
        raise ValueError(f"errors {errors.shape} and actions {keys.shape} differ in length")
    table = {}
    for k in np.unique(keys):
        e = errors[keys == k]
        table[str(k)] = (float(e.mean()), int(e.size))
    action_mean = float(np.mean([m for m, _ in table.values()])) if table else float("nan")
    return table, action_mean, float(errors.mean()) if errors.size else float("nan")
