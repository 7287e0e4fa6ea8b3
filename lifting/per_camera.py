"""Lift each frame with its own camera: the frames grouped by camera, one :class:`lifting.lift.Lifter` per distinct
camera (its precomputation is per camera), the named :class:`lifting.lift.LiftResult` fields gathered back in frame
order. Used by the lifting layer (:class:`lifting.belief_maps.MapLifter`), image evaluation
(:func:`lifting.image_eval.lift_known_cameras`) and the pose-model evaluation through real cameras
(:func:`model_fitting.views.lift_views`).
"""
from __future__ import annotations

import numpy as np

from .skeleton import NUM_JOINTS

#: the per-frame shape (after N) and the fill of frames never lifted, of the LiftResult fields one may gather
FIELDS = {"pose3d": ((NUM_JOINTS, 3), np.nan), "pose3d_mm": ((NUM_JOINTS, 3), np.nan),
          "pose3d_camera_mm": ((NUM_JOINTS, 3), np.nan), "reprojected": ((NUM_JOINTS, 2), np.nan),
          "angle": ((), np.nan), "scale": ((), np.nan), "scale_relative": ((), np.nan), "residual": ((), np.nan),
          "cost": ((), np.nan), "status": ((), 0), "scale_at_bound": ((), False)}


def lift_per_camera(model, points2d, cameras, weights=None, fields=("pose3d_camera_mm", "reprojected", "status"),
                    lifter_for=None, **lifter_args):
    """Lift 2D poses ``(N, 17, 2)`` (with ``weights (N, 17)`` where given), frame ``n`` through its camera rotation
    ``cameras[n]`` (``(N, 3, 3)`` or row-major ``(N, 9)``) -> dict of the named LiftResult ``fields`` (:data:`FIELDS`),
    each ``(N, ...)``. ``lifter_for``: camera ``(9,)`` -> the Lifter to use (a caller's cache); default: one new
    Lifter (``model``, ``lifter_args``) per camera distinct to 6 decimals."""
    from .lift import Lifter

    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise ValueError(f"lift_per_camera: unknown fields {sorted(unknown)}; known: {sorted(FIELDS)}")
    pts = np.asarray(points2d, np.float64)
    n = len(pts)
    cams = np.asarray(cameras, np.float64).reshape(n, 9)
    if lifter_for is None:
        made = {}

        def lifter_for(cam):
            key = (np.round(cam, 6) + 0.0).tobytes()  # + 0.0: -0.0 and 0.0 are one camera
            if key not in made:
                made[key] = Lifter(model, camera=cam.reshape(3, 3), **lifter_args)
            return made[key]

    out = {}
    for k in fields:
        shape, fill = FIELDS[k]
        dtype = bool if isinstance(fill, bool) else np.int64 if isinstance(fill, int) else np.float64
        out[k] = np.full((n,) + shape, fill, dtype)
    lifters = [lifter_for(c) for c in cams]
    ids = np.array([id(lf) for lf in lifters])
    for first in np.unique(ids, return_index=True)[1]:
        idx = np.flatnonzero(ids == ids[first])
        res = lifters[first].lift(pts[idx], None if weights is None else np.asarray(weights)[idx])
        for k in fields:
            out[k][idx] = getattr(res, k)
    return out
