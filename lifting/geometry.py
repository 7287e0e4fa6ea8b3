"""Geometry of the project's one world frame: ground-plane rotation (eq. 2), weak-perspective projection (eq. 6),
the upright camera, axis conventions and the normalisation of poses to model space (paper sec. 4).

World frame: **y up**, the root joint (Hip) of a model-space pose at the origin. Shapes use N poses of L joints
(L = 17 in this project) and ``(..., 3)`` points with x, y, z in the last axis.
"""
from __future__ import annotations

import numpy as np

from . import skeleton

#: the default camera E (world -> camera axes): an upright camera; world y (up) becomes image y (down), and the
#: optical axis (camera +z) points along world -z.
UPRIGHT_CAMERA = np.diag([1.0, -1.0, -1.0])


def ground_rotation(theta):
    """``(...)`` angles -> ``(..., 3, 3)`` ground-plane rotations about the y axis (eq. 2):
    ``R = [[c, 0, s], [0, 1, 0], [-s, 0, c]]``."""
    theta = np.asarray(theta, np.float64)
    c, s = np.cos(theta), np.sin(theta)
    z, o = np.zeros_like(c), np.ones_like(c)
    return np.stack([np.stack([c, z, s], -1), np.stack([z, o, z], -1), np.stack([-s, z, c], -1)], -2)


def rotate_ground(points, theta, inverse=False):
    """``R(theta) X`` (or ``R(theta)^T X`` with ``inverse``) for points ``(N, ..., 3)`` and one angle per leading
    index ``theta (N,)`` (or a scalar). Returns a new float64 array of the points' shape."""
    p = np.asarray(points, np.float64)
    th = np.asarray(theta, np.float64)
    th = th.reshape(th.shape + (1,) * (p.ndim - 1 - th.ndim))
    c, s = np.cos(th), np.sin(th)
    if inverse:
        s = -s
    x, z = p[..., 0], p[..., 2]
    out = np.empty_like(p)
    out[..., 0] = c * x + s * z
    out[..., 1] = p[..., 1]
    out[..., 2] = c * z - s * x
    return out


def project(poses, camera=UPRIGHT_CAMERA, scale=1.0, offset=(0.0, 0.0)):
    """Weak perspective ``scale * Pi E X + offset`` of poses ``(N, L, 3)`` -> ``(N, L, 2)``; ``camera`` is E
    ``(3, 3)``, ``scale`` a scalar or per pose ``(N,)``, ``offset`` ``(2,)``."""
    xy = np.einsum("ij,nlj->nli", np.asarray(camera, np.float64)[:2], poses)
    return np.asarray(scale, np.float64).reshape(-1, 1, 1) * xy + np.asarray(offset, np.float64)


def z_up_to_y_up(poses):
    """``(..., 3)`` from a z-up frame (Human3.6M, the authors' model) to our y-up frame: (x, y, z) -> (x, z, -y),
    a rotation (handedness is kept)."""
    poses = np.asarray(poses, np.float64)
    return np.stack([poses[..., 0], poses[..., 2], -poses[..., 1]], axis=-1)


def normalise_poses(poses):
    """Root-centre and scale each pose ``(N, 17, 3)`` to unit limb scale (model space, sec. 4).

    Returns ``(normalised (N, 17, 3), scales (N,))`` with ``poses - root == normalised * scales``.
    """
    poses = np.asarray(poses, np.float64)
    centred = poses - poses[..., :1, :]
    scale = skeleton.limb_scale(centred)
    if np.any(~np.isfinite(scale)) or np.any(scale <= 0):
        bad = np.flatnonzero(~(np.isfinite(scale) & (scale > 0)))
        raise ValueError(f"poses {bad[:10].tolist()} have a non-finite or zero limb scale")
    return centred / scale[..., None, None], scale
