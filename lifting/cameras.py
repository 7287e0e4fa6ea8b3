"""Real cameras: the Human3.6M camera JSON layout, the rotation ``E`` that the lifter takes, and pinhole projection.

Frames: Human3.6M's world is z up (metres in the file); ours is y up (:func:`lifting.model.z_up_to_y_up`,
``(x, y, z) -> (x, z, -y)``). A camera's ``R`` maps world to camera axes (x right, y down, z forward) and
``X_cam = R (X_world - T)``. The lifter's camera ``E`` maps *our* y-up world to camera axes: ``E = R M`` with
``M`` the y-up -> z-up change of axes.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from .files import read_json

#: y-up (ours) -> z-up (Human3.6M, CMU) axes: the inverse of ``(x, y, z) -> (x, z, -y)``
Y_UP_TO_Z_UP = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])


class CameraFileError(ValueError):
    """A camera file that cannot be used; the message names the file and the field."""


@dataclass(frozen=True)
class Camera:
    """One calibrated camera: ``R (3, 3)`` world (z up) -> camera, ``T (3,)`` camera centre in the world (mm),
    ``f (2,)`` and ``c (2,)`` in pixels, ``k (3,)`` radial and ``p (2,)`` tangential distortion, image size."""

    R: np.ndarray
    T: np.ndarray
    f: np.ndarray
    c: np.ndarray
    k: np.ndarray
    p: np.ndarray
    width: int
    height: int
    name: str = ""

    @property
    def E(self):
        """``(3, 3)`` rotation from our y-up world to camera axes: the lifter's ``camera``."""
        return self.R @ Y_UP_TO_Z_UP

    def world_to_camera(self, X):
        """``(..., 3)`` world points (z up, mm) -> camera frame (mm)."""
        return np.einsum("ij,...j->...i", self.R, np.asarray(X, np.float64) - self.T)

    def project(self, X_cam, distort=False):
        """``(..., 3)`` camera-frame points -> ``(..., 2)`` pixels (pinhole; with ``distort`` the Human3.6M
        radial-tangential model)."""
        X_cam = np.asarray(X_cam, np.float64)
        xy = X_cam[..., :2] / X_cam[..., 2:3]
        if distort:
            r2 = np.sum(xy**2, -1, keepdims=True)
            radial = 1 + self.k[0] * r2 + self.k[1] * r2**2 + self.k[2] * r2**3
            tan = np.sum(self.p * xy[..., ::-1], -1, keepdims=True)  # p1 y + p2 x
            xy = xy * (radial + tan) + r2 * self.p[::-1]
        return self.f * xy + self.c


def _field(obj, key, shape, where):
    if key not in obj:
        raise CameraFileError(f"{where}: field {key!r} is missing")
    a = np.asarray(obj[key], np.float64)
    if a.shape != shape or not np.all(np.isfinite(a)):
        raise CameraFileError(f"{where}: field {key!r} must be finite with shape {shape}, got {a.shape}")
    return a


def read_h36m_cameras_json(path) -> dict[tuple[str, str], Camera]:
    """The layout of ``h36m_fixture/cameras.json``: ``{subject: {camera_id: {R, T_m, f, c, k, p, width, height,
    name}}}`` -> ``{(subject, camera_id): Camera}`` (``T`` converted to mm).

    The stored ``R`` is the camera-to-world rotation: ``X_cam = R^T (X_world - T)``; ``Camera.R`` is its transpose.
    Evidence (tests/lifting/test_cameras.py): read this way, the camera-frame 3D labels of all four fixture frames land as
    upright bodies with their feet within 0.11 m of the floor, inside the capture area, and every camera looks
    10-16 degrees down at the room's centre with under 6 degrees of roll; read as world-to-camera, the cameras
    55011271 and 60457274 would turn people upside down 10 m outside the room and the others would be rolled by
    about 24 degrees."""
    path = os.fspath(path)
    obj = read_json(path, CameraFileError)
    if not isinstance(obj, dict) or not obj:
        raise CameraFileError(f"{path}: expected an object of subjects")
    out = {}
    for subj, cams in obj.items():
        if not isinstance(cams, dict):
            raise CameraFileError(f"{path}: {subj}: expected an object of cameras")
        for cid, c in cams.items():
            where = f"{path}: {subj}/{cid}"
            R = _field(c, "R", (3, 3), where).T
            if np.abs(R @ R.T - np.eye(3)).max() > 1e-5 or np.linalg.det(R) < 0:
                raise CameraFileError(f"{where}: field 'R' is not a rotation")
            out[(subj, cid)] = Camera(R=R, T=_field(c, "T_m", (3,), where) * 1000.0, f=_field(c, "f", (2,), where),
                                      c=_field(c, "c", (2,), where), k=_field(c, "k", (3,), where),
                                      p=_field(c, "p", (2,), where), width=int(c.get("width", 1000)),
                                      height=int(c.get("height", 1002)), name=str(c.get("name", cid)))
    return out


def read_rotation_json(path, what="--camera"):
    """A JSON file holding one 3x3 world->camera rotation ``E`` (our y-up world) as ``R``, ``R_world_to_camera`` or
    ``camera.R_world_to_camera`` (the shipped sample's layout) -> ``(3, 3)``."""
    obj = read_json(path, CameraFileError, what)
    if isinstance(obj, dict) and isinstance(obj.get("camera"), dict):
        obj = obj["camera"]
    R = obj.get("R", obj.get("R_world_to_camera")) if isinstance(obj, dict) else None
    if R is None:
        raise CameraFileError(f"{what} {path}: no field 'R' or 'R_world_to_camera'")
    try:
        R = np.asarray(R, np.float64)
    except (TypeError, ValueError):
        raise CameraFileError(f"{what} {path}: field R must be a 3x3 array of numbers") from None
    if R.shape != (3, 3):
        raise CameraFileError(f"{what} {path}: field R must be 3x3, got shape {R.shape}")
    if not np.isfinite(R).all() or np.abs(R @ R.T - np.eye(3)).max() > 1e-6 or np.linalg.det(R) < 0:
        raise CameraFileError(f"{what} {path}: field R is not a rotation matrix (orthonormal, det +1)")
    return R


def place_in_room(poses_y_up, rng, area_mm=1500.0):
    """Root-centred y-up poses ``(N, 17, 3)`` (mm) -> z-up world positions standing on the floor (z = 0) at a random
    spot within ``area_mm`` of the room's origin (the middle of the Human3.6M capture area)."""
    w = np.asarray(poses_y_up, np.float64) @ Y_UP_TO_Z_UP.T
    w = w - np.array([0.0, 0.0, 1.0]) * w[..., 2].min(1)[:, None, None]  # lowest joint on the floor
    xy = rng.uniform(-area_mm, area_mm, size=(len(w), 2))
    return w + np.concatenate([xy, np.zeros((len(w), 1))], 1)[:, None]


def look_at(centre, target, up=(0.0, 0.0, 1.0)):
    """World -> camera rotation (camera x right, y down, z forward) of a camera at ``centre`` looking at ``target``,
    with no roll about its optical axis; ``up`` is the world's up direction (z for Human3.6M)."""
    z = np.asarray(target, np.float64) - np.asarray(centre, np.float64)
    z /= np.linalg.norm(z)
    x = np.cross(z, up)
    x /= np.linalg.norm(x)
    return np.stack([x, np.cross(z, x), z])



def pitch_deg(camera: Camera):
    """Downward tilt of the optical axis below the horizon, degrees (Human3.6M: 10-16)."""
    return float(np.degrees(-np.arcsin(camera.R[2, 2])))
