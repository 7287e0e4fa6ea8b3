"""Realistic views of held-out motion capture for evaluation: each pose stands somewhere in a Human3.6M-sized room,
turned by a random ground-plane angle, and is seen by one of the four Human3.6M cameras (their intrinsics,
placement and downward tilt of 10-16 degrees) through a pinhole, with optional Gaussian 2D noise whose size is given
in millimetres at the subject (``noise_mm * f / depth`` pixels)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lifting import records
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


#: a lifted frame's limb scale is "off" when it is more than this many times the truth's, or less than its inverse
#: (:attr:`LiftAccuracy.scale_off_1_5x`)
SCALE_OFF = 1.5


@dataclass(frozen=True)
class LiftAccuracy:
    """How well a model lifts held-out poses (:func:`summarise`): the errors over the lifted frames, mm, and the
    frames not lifted. The errors and the fraction are None when no frame was lifted. A row of ``lifting evaluate``'s
    JSON (``h36m.summary[model]``, ``cmu[model][folder].summary``) and of ``results/model_selection.json``
    (:meth:`to_json`)."""

    #: poses evaluated
    frames: int
    #: poses not lifted (given a status); the errors are over the others
    failed: int
    #: MPJPE (protocol 1: roots aligned), mm: mean and median over the lifted frames
    mpjpe_mean: float | None
    mpjpe_median: float | None
    #: P-MPJPE (protocol 2: Procrustes-aligned), mm: mean and median over the lifted frames
    p_mpjpe_mean: float | None
    p_mpjpe_median: float | None
    #: fraction (0-1) of the lifted frames whose limb scale is off the truth's by more than :data:`SCALE_OFF` (1.5)
    #: times either way; JSON key ``"scale_off_1.5x"``
    scale_off_1_5x: float | None

    def to_json(self):
        return {_JSON_KEY.get(k, k): getattr(self, k) for k in records.names(self)}

    @classmethod
    def from_json(cls, data, where="lift accuracy"):
        """The dict of :meth:`to_json` as read back from a JSON file; ``where`` names the file and field in errors."""
        names = records.names(cls)
        d = records.fields(data, [_JSON_KEY.get(k, k) for k in names], where)
        values = {}
        for name in names:
            key = _JSON_KEY.get(name, name)
            values[name] = (records.count(d[key], f"{where}.{key}") if name in ("frames", "failed")
                            else records.number(d[key], f"{where}.{key}", null=None))
        return cls(**values)


#: a :class:`LiftAccuracy` field written under another key (one that is no Python name)
_JSON_KEY = {"scale_off_1_5x": "scale_off_1.5x"}


def summarise(err) -> LiftAccuracy:
    """Per-frame errors (:func:`view_errors`) -> mean and median MPJPE and P-MPJPE over lifted frames, the fraction of
    lifted frames whose limb scale is off the truth's by more than :data:`SCALE_OFF` times either way, and the count
    of frames not lifted."""
    ok = err["ok"]
    lr = err["limb_ratio"][ok]
    lifted = bool(ok.any())
    return LiftAccuracy(frames=int(ok.size), failed=int(ok.size - ok.sum()),
                        mpjpe_mean=float(np.mean(err["mpjpe"][ok])) if lifted else None,
                        mpjpe_median=float(np.median(err["mpjpe"][ok])) if lifted else None,
                        p_mpjpe_mean=float(np.mean(err["p_mpjpe"][ok])) if lifted else None,
                        p_mpjpe_median=float(np.median(err["p_mpjpe"][ok])) if lifted else None,
                        scale_off_1_5x=(float(np.mean((lr > SCALE_OFF) | (lr < 1 / SCALE_OFF))) if lifted
                                        else None))
