"""A place in the world: a person's root (Hip) in the camera frame, in metres, from the lift's weak-perspective
scale and the model's metric size.

The lift explains the 2D by ``s * Pi E X + t`` with ``X`` in model units (``mm_per_unit`` mm each) and ``s`` in
pixels per model unit (:attr:`lifting.lift.LiftResult.scale`). A pinhole camera of focal length ``f`` px sees a
body at depth ``Z`` with ``f / Z`` pixels per metre, so ``Z = f * mm_per_unit / (1000 s)`` m (the weak-perspective
depth: that of the body's centre, assigned to its root), and the root's image point ``(u, v)`` (the lift's
reprojected Hip) back-projects to ``X = (u - cx) Z / f``, ``Y = (v - cy) Z / f``. Camera axes: x right, y down,
z forward (away from the camera).

The camera: known intrinsics (``--camera`` with ``f`` and ``c``), a focal length (``--focal-px``, principal point
at the image centre), or assumed: a horizontal field of view of :data:`ASSUMED_HFOV_DEG` (a phone's main camera
is 65-75 degrees, a typical video 50-70) with the principal point at the image centre. The assumption sets the
depth's scale: with the wrong focal length depths scale by the ratio of the two.
"""
from __future__ import annotations

import numpy as np

#: the assumed horizontal field of view when no camera is given (degrees)
ASSUMED_HFOV_DEG = 60.0


def assumed_intrinsics(image_size, hfov_deg=ASSUMED_HFOV_DEG):
    """``(f (2,), c (2,))`` px for an image ``(h, w)`` seen with a horizontal field of view ``hfov_deg``."""
    h, w = image_size
    f = (w / 2) / np.tan(np.radians(hfov_deg) / 2)
    return np.array([f, f]), np.array([w / 2, h / 2])


def intrinsics(image_size, focal_px=None, principal_px=None):
    """``(f (2,), c (2,), label)``: the given focal length (scalar or ``(fx, fy)``) and principal point, else the
    assumption; ``label`` says which (written into the outputs)."""
    h, w = image_size
    if focal_px is None:
        f, c = assumed_intrinsics(image_size)
        return f, c, f"assumed: horizontal field of view {ASSUMED_HFOV_DEG:g} deg (f = {f[0]:.1f} px), " \
                     f"principal point at the image centre"
    f = np.broadcast_to(np.asarray(focal_px, np.float64), (2,)).copy()
    if not np.all(np.isfinite(f)) or np.any(f <= 0):
        raise ValueError(f"focal length must be finite and > 0 px, got {focal_px}")
    c = np.array([w / 2, h / 2]) if principal_px is None else np.asarray(principal_px, np.float64)
    return f, c, f"given: f = ({f[0]:.1f}, {f[1]:.1f}) px, principal point ({c[0]:.1f}, {c[1]:.1f}) px"


def root_position_m(root_px, scale_px, mm_per_unit, focal_px, principal_px):
    """Root positions ``(N, 3)`` m in camera axes from reprojected roots ``(N, 2)`` px and the lift's scales
    ``(N,)`` px per model unit; NaN where the scale is not finite or not positive."""
    root = np.asarray(root_px, np.float64).reshape(-1, 2)
    s = np.asarray(scale_px, np.float64).reshape(-1)
    f = np.broadcast_to(np.asarray(focal_px, np.float64), (2,))
    c = np.broadcast_to(np.asarray(principal_px, np.float64), (2,))
    good = np.isfinite(s) & (s > 0)
    z = np.where(good, np.mean(f) * mm_per_unit / 1000.0 / np.where(good, s, 1.0), np.nan)
    xy = (root - c) * z[:, None] / f
    return np.concatenate([xy, z[:, None]], axis=1)
