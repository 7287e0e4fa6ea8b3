"""Real cameras: the two Human3.6M camera file layouts (the JSON of ``h36m_fixture/cameras.json`` and the
``cameras.h5`` of the Martinez et al. baseline), the rotation ``E`` that the lifter takes, and pinhole projection.

Frames: Human3.6M's world is z up (metres in the file); ours is y up (:func:`lifting.model.z_up_to_y_up`,
``(x, y, z) -> (x, z, -y)``). A camera's ``R`` maps world to camera axes (x right, y down, z forward) and
``X_cam = R (X_world - T)``. The lifter's camera ``E`` maps *our* y-up world to camera axes: ``E = R M`` with
``M`` the y-up -> z-up change of axes.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from .files import open_h5, read_json

#: the four Human3.6M camera ids, in the dataset's order (``camera1`` .. ``camera4`` of ``cameras.h5``)
H36M_CAMERA_IDS = ("54138969", "55011271", "58860488", "60457274")
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


def _rotation(R, where):
    if np.abs(R @ R.T - np.eye(3)).max() > 1e-5 or np.linalg.det(R) < 0:
        raise CameraFileError(f"{where}: field 'R' is not a rotation")
    return R


def read_h36m_cameras_json(path) -> dict[tuple[str, str], Camera]:
    """The layout of ``h36m_fixture/cameras.json``: ``{subject: {camera_id: {R, T_m, f, c, k, p, width, height,
    name}}}`` -> ``{(subject, camera_id): Camera}`` (``T`` converted to mm).

    The stored ``R`` is the camera-to-world rotation: ``X_cam = R^T (X_world - T)``; ``Camera.R`` is its transpose.
    Evidence (tests/lifting/test_cameras.py): read this way, the camera-frame 3D labels of all four fixture frames land
    as
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
            R = _rotation(_field(c, "R", (3, 3), where).T, where)
            out[(subj, cid)] = Camera(R=R, T=_field(c, "T_m", (3,), where) * 1000.0, f=_field(c, "f", (2,), where),
                                      c=_field(c, "c", (2,), where), k=_field(c, "k", (3,), where),
                                      p=_field(c, "p", (2,), where), width=int(c.get("width", 1000)),
                                      height=int(c.get("height", 1002)), name=str(c.get("name", cid)))
    return out


#: image size (width, height) of each Human3.6M camera; ``cameras.h5`` does not store it
H36M_IMAGE_SIZE = {"54138969": (1000, 1002), "55011271": (1000, 1000), "58860488": (1000, 1000),
                   "60457274": (1000, 1002)}


def read_h36m_cameras_h5(path) -> dict[tuple[str, str], Camera]:
    """The ``cameras.h5`` layout of the Martinez et al. baseline: ``subject{n}/camera{m}/{R, T, f, c, k, p, Name}``
    (``T (3, 1)`` camera centre in mm, ``f``, ``c (2, 1)``, ``k (3, 1)``, ``p (2, 1)``, ``Name`` the camera id as
    character codes) -> ``{("S<n>", camera_id): Camera}``.

    The stored ``R`` is the transpose of the world-to-camera rotation: their loader transposes it on reading and then
    uses ``X_cam = R (X_world - T)`` (``load_camera_params``: ``R = hf[...][:].T``). So, as in the JSON layout,
    ``X_cam = R_file^T (X_world - T)`` and ``Camera.R = R_file^T``."""
    path = os.fspath(path)
    out = {}
    with open_h5(path, CameraFileError, "HDF5 camera file") as f:
        subjects = sorted(k for k in f.keys() if k.startswith("subject"))
        if not subjects:
            raise CameraFileError(f"{path}: no group 'subject<n>' (found {sorted(f.keys())[:10]})")
        for sg in subjects:
            subj = "S" + sg[len("subject"):]
            for cg in sorted(f[sg].keys()):
                g = f[sg][cg]
                where = f"{path}: {sg}/{cg}"
                fields = {}
                for key, shape in (("R", (3, 3)), ("T", (3,)), ("f", (2,)), ("c", (2,)), ("k", (3,)), ("p", (2,))):
                    if key not in g:
                        raise CameraFileError(f"{where}: field {key!r} is missing")
                    a = np.asarray(g[key][()], np.float64)
                    if a.size != int(np.prod(shape)) or not np.all(np.isfinite(a)):
                        raise CameraFileError(f"{where}: field {key!r} must hold {int(np.prod(shape))} finite values, "
                                              f"got shape {a.shape}")
                    fields[key] = a.reshape(shape)
                if "Name" not in g:
                    raise CameraFileError(f"{where}: field 'Name' is missing")
                name = np.asarray(g["Name"][()]).reshape(-1)
                cid = "".join(chr(int(v)) for v in name) if name.dtype.kind in "iuf" else \
                    b"".join(v if isinstance(v, bytes) else str(v).encode() for v in name).decode()
                if cid not in H36M_IMAGE_SIZE:
                    raise CameraFileError(f"{where}: field 'Name' is {cid!r}, not a Human3.6M camera id "
                                          f"{H36M_CAMERA_IDS}")
                R = _rotation(fields["R"].T, where)
                w, h = H36M_IMAGE_SIZE[cid]
                out[(subj, cid)] = Camera(R=R, T=fields["T"], f=fields["f"], c=fields["c"], k=fields["k"],
                                          p=fields["p"], width=w, height=h, name=cg)
    return out


def read_h36m_cameras(path) -> dict[tuple[str, str], Camera]:
    """Either Human3.6M camera layout, by extension: ``.json`` (:func:`read_h36m_cameras_json`) or ``.h5``/``.hdf5``
    (:func:`read_h36m_cameras_h5`)."""
    ext = os.path.splitext(os.fspath(path))[1].lower()
    if ext == ".json":
        return read_h36m_cameras_json(path)
    if ext in (".h5", ".hdf5"):
        return read_h36m_cameras_h5(path)
    raise CameraFileError(f"{path}: unknown camera file type {ext!r} (use the .json or the cameras.h5 layout)")


def rotate_about_optical_axis(E, degrees):
    """The camera rotation seen after the image is rotated in its plane: image points ``(x, y)`` (pixels, y down)
    turned by ``degrees`` about any centre, ``[x', y'] = [[cos, sin], [-sin, cos]] [x, y]`` (counter-clockwise on the
    screen for positive degrees, OpenCV's ``getRotationMatrix2D`` convention), are the weak-perspective image of
    the same 3D pose seen by ``blockdiag(that 2x2, 1) @ E``. ``E (..., 3, 3)``, ``degrees (...)``."""
    a = np.radians(np.asarray(degrees, np.float64))
    c, s = np.cos(a), np.sin(a)
    z, o = np.zeros_like(c), np.ones_like(c)
    Rz = np.stack([np.stack([c, s, z], -1), np.stack([-s, c, z], -1), np.stack([z, z, o], -1)], -2)
    return Rz @ np.asarray(E, np.float64)


def camera_roll(E):
    """The roll of cameras ``E (..., 3, 3)`` about their optical axes, degrees: ``E = rotate_about_optical_axis(E0,
    roll)`` with ``E0`` level (its x axis horizontal, ``E0[0, 1] = 0``, and world up pointing up in the image,
    ``E0[1, 1] < 0``). A camera looking straight down or up has roll 0."""
    E = np.asarray(E, np.float64)
    a, b = E[..., 0, 1], E[..., 1, 1]
    return np.where(np.hypot(a, b) > 1e-9, np.degrees(np.arctan2(-a, -b)), 0.0)


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
