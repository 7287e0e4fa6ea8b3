"""Realistic views of held-out motion capture for evaluation: each pose stands somewhere in a Human3.6M-sized room,
turned by a random ground-plane angle, and is seen by one of the four Human3.6M cameras (their intrinsics,
placement and downward tilt of 10-16 degrees) through a pinhole, with optional Gaussian 2D noise whose size is given
in millimetres at the subject (``noise_mm * f / depth`` pixels)."""
from __future__ import annotations

import numpy as np

from lifting.cameras import H36M_CAMERA_IDS, Camera, place_in_room
from lifting.geometry import rotate_ground
from lifting.skeleton import NUM_JOINTS


def h36m_rig(cameras: dict, subject="S9"):
    """The four cameras of ``subject`` from :func:`lifting.cameras.read_h36m_cameras_json`."""
    missing = [cid for cid in H36M_CAMERA_IDS if (subject, cid) not in cameras]
    if missing:
        have = sorted({s for s, _ in cameras})
        raise ValueError(f"no camera {', '.join(missing)} of subject {subject!r} in the camera file (it has the "
                         f"subjects {have})")
    return [cameras[(subject, cid)] for cid in H36M_CAMERA_IDS]


def camera_views(poses, rig: list[Camera], seed=0, noise_mm=0.0, area_mm=1000.0):
    """Poses ``(N, 17, 3)`` mm (y up, root-centred) -> a dict with ``points2d (N, 17, 2)`` pixels, ``camera (N,)``
    index into ``rig``, ``E (N, 3, 3)`` (the lifter's camera), ``truth_camera (N, 17, 3)`` root-relative mm in the
    camera frame, ``depth (N,)`` of the root in mm. Frame i is seen by camera ``i % len(rig)``."""
    rng = np.random.default_rng(seed)
    poses = np.asarray(poses, np.float64)
    n = len(poses)
    theta = rng.uniform(0, 2 * np.pi, n)
    world = place_in_room(rotate_ground(poses - poses[:, :1], theta), rng, area_mm)
    cam_idx = np.arange(n) % len(rig)
    pts = np.empty((n, NUM_JOINTS, 2))
    truth = np.empty((n, NUM_JOINTS, 3))
    depth = np.empty(n)
    E = np.empty((n, 3, 3))
    for c, cam in enumerate(rig):
        sel = cam_idx == c
        Xc = cam.world_to_camera(world[sel])
        px = cam.project(Xc)
        if noise_mm:
            sigma = noise_mm * cam.f.mean() / Xc[:, :1, 2:3]
            px = px + rng.normal(size=px.shape) * sigma
        pts[sel], truth[sel], depth[sel], E[sel] = px, Xc - Xc[:, :1], Xc[:, 0, 2], cam.E
    return {"points2d": pts, "camera": cam_idx, "E": E, "truth_camera": truth, "depth": depth}


def lift_views(model, views, rig, **lifter_kwargs):
    """Lift :func:`camera_views` output with each frame's own camera -> ``(LiftResult fields as arrays)``: a dict
    with ``pose3d_camera_mm (N, 17, 3)``, ``pose3d (N, 17, 3)`` model units, ``status (N,)``,
    ``scale_at_bound (N,)``."""
    from lifting.per_camera import lift_per_camera

    cameras = np.stack([cam.E for cam in rig])[np.asarray(views["camera"], np.int64)]
    return lift_per_camera(model, views["points2d"], cameras,
                           fields=("pose3d_camera_mm", "pose3d", "status", "scale_at_bound"), **lifter_kwargs)


def view_errors(model, lifted, views, frame="camera"):
    """Per-frame errors of :func:`lift_views` against the truth, both in ``frame`` (``"camera"``: ``lifted`` holds
    ``pose3d_camera_mm`` and ``views`` ``truth_camera``; ``"world"``: ``pose3d_world_mm`` and ``truth_world``):
    ``mpjpe``, ``p_mpjpe`` (mm; NaN where not lifted), ``limb_ratio`` (limb scale of the 3D output / the truth's, in
    the model's units), ``ok``."""
    if frame not in ("camera", "world"):
        raise ValueError(f"view_errors: frame must be 'camera' or 'world', got {frame!r}")
    from lifting import metrics, skeleton

    ok = lifted["status"] == 0
    n = len(ok)
    e1, e2, lr = np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan)
    truth = views[f"truth_{frame}"]
    pred = lifted[f"pose3d_{frame}_mm"]
    if ok.any():
        e1[ok] = metrics.mpjpe(pred[ok], truth[ok])
        e2[ok] = metrics.p_mpjpe(pred[ok], truth[ok])
        lr[ok] = skeleton.limb_scale(pred[ok]) / skeleton.limb_scale(truth[ok])
    return {"mpjpe": e1, "p_mpjpe": e2, "limb_ratio": lr, "ok": ok}


def summarise(err, off=1.5):
    """Mean and median MPJPE and P-MPJPE over lifted frames, the fraction of lifted frames whose limb scale is off
    the truth's by more than ``off`` times either way, and the count of frames not lifted."""
    ok = err["ok"]
    lr = err["limb_ratio"][ok]
    return {"frames": int(ok.size), "failed": int(ok.size - ok.sum()),
            "mpjpe_mean": float(np.mean(err["mpjpe"][ok])) if ok.any() else None,
            "mpjpe_median": float(np.median(err["mpjpe"][ok])) if ok.any() else None,
            "p_mpjpe_mean": float(np.mean(err["p_mpjpe"][ok])) if ok.any() else None,
            "p_mpjpe_median": float(np.median(err["p_mpjpe"][ok])) if ok.any() else None,
            f"scale_off_{off}x": float(np.mean((lr > off) | (lr < 1 / off))) if ok.any() else None}
