"""The real Human3.6M fixture (``../shared/data/h36m_fixture``: four frames of S1, S5, S7, S8 with their 2D labels,
camera-frame 3D and calibrated cameras) as a tiny prepared test set (:mod:`lifting.dataset`), cropped exactly as
``lifting h36m-prepare`` crops a video frame (``crop="authors"``, the default:
:func:`model_fitting.prepare.crop_authors` with the test set's cubic resize; ``"extent"``:
:func:`model_fitting.prepare.crop_person`). Four frames: a check that
the evaluation runs end to end on real images, never an accuracy figure.
"""
from __future__ import annotations

import os

import numpy as np

from lifting import skeleton
from lifting.cameras import read_h36m_cameras_json
from lifting.cpm import BOX
from lifting.dataset import FORMAT_VERSION, write_manifest, write_shard

from .prepare import CROPS, crop_authors, crop_person


def write_fixture_split(fixture, out, margin=2.1, jpeg_quality=90, crop="authors"):
    """Write the fixture's frames into ``out`` as a prepared dataset, one shard per frame; returns the manifest."""
    import cv2

    if crop not in CROPS:
        raise ValueError(f"crop must be one of {list(CROPS)}, got {crop!r}")
    labels = os.path.join(fixture, "labels.npz")
    if not os.path.exists(labels):
        raise FileNotFoundError(f"{labels}: no such file (expected the h36m_fixture layout: labels.npz, cameras.json, "
                                "images/)")
    from lifting.dataset import inside
    from lifting.files import load_npz

    z = load_npz(labels, "labels")
    nj = skeleton.NUM_JOINTS
    for key, shape in (("joints2d_px", (nj, 2)), ("joints3d_camera_m", (nj, 3)), ("visible", (nj,))):
        if key not in z or z[key].ndim != len(shape) + 1 or z[key].shape[1:] != shape:
            raise ValueError(f"{labels}: field {key!r} must have shape (N, {', '.join(map(str, shape))})")
    n = len(z["joints2d_px"])
    for key in ("image", "subject", "camera", "action", "frame", "joints3d_camera_m", "visible"):
        if key not in z or len(z[key]) != n:
            raise ValueError(f"{labels}: field {key!r} must hold one entry per frame ({n})")
    from lifting.plausible import check_keypoints_2d, check_poses_mm

    d2 = check_keypoints_2d(z["joints2d_px"], f"{labels}: field 'joints2d_px'")
    if np.isnan(d2).any():
        raise ValueError(f"{labels}: field 'joints2d_px' holds NaN: a label must be a number")
    check_poses_mm(np.asarray(z["joints3d_camera_m"]) * 1000.0, f"{labels}: field 'joints3d_camera_m' (metres)")
    cams = read_h36m_cameras_json(os.path.join(fixture, "cameras.json"))
    shards = []
    for i, name in enumerate(z["image"]):
        path = inside(os.path.join(fixture, "images"), str(name), labels, f"image[{i}]")
        frame = cv2.imread(path)
        if frame is None:
            raise ValueError(f"{path}: cannot be read as an image")
        subject, cid = str(z["subject"][i]), str(z["camera"][i])
        if (subject, cid) not in cams:
            raise ValueError(f"{fixture}/cameras.json: no camera {subject}/{cid} (needed by {name})")
        d2 = z["joints2d_px"][i].astype(np.float64)
        if crop == "authors":
            image, M, box = crop_authors(frame, d2, "cubic")
            objpos = np.full(2, (BOX - 1) / 2)  # the crop's centre, as h36m-prepare stores it
        else:
            image, M, box = crop_person(frame, d2, margin)
            objpos = M[:, :2] @ d2[0] + M[:, 2]
        ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(jpeg_quality)])
        if not ok:
            raise ValueError(f"{path}: JPEG encoding of the crop failed")
        arrays = {"joints2d": (d2 @ M[:, :2].T + M[:, 2])[None], "visible": (z["visible"][i] > 0)[None],
                  "objpos": objpos[None], "box": [box], "E": cams[(subject, cid)].E[None],
                  "joints3d_camera_mm": (z["joints3d_camera_m"][i] * 1000.0)[None],
                  "crop_transform": [[M[0, 0], M[0, 2], M[1, 2]]], "frame": [int(z["frame"][i])],
                  "camera": [cid.encode()], **({"crop_scale_y": [M[1, 1]]} if crop == "authors" else {})}
        sequence = str(z["action"][i]).replace("_", " ")
        action = skeleton.action_key(str(z["action"][i]))
        file = os.path.join("shards", subject, f"{os.path.splitext(str(name))[0]}.h5")
        write_shard(os.path.join(out, file), [buf.tobytes()], arrays, subject, action, sequence,
                    {"source": os.path.abspath(path)})
        shards.append({"file": file, "samples": 1, "subject": subject, "action": action, "sequence": sequence})
    manifest = {"format_version": FORMAT_VERSION, "complete": True, "shards": shards,
                "config": {"fixture": os.path.abspath(fixture), "margin": float(margin),
                           "jpeg_quality": int(jpeg_quality), "crop": crop}}
    write_manifest(out, manifest)
    return manifest
