"""Image -> 2D joints and 3D pose with the extended network (CPM preprocessing, forward, final lift).

The reported 2D joints and 3D pose are the two outputs of the net's final Prob3DPoseLayer (tops ``joints2d`` and
``pose3d``): the lifted pose and its projection, one solution (the paper's 2D estimate is the projected 3D pose, its
Table 2). Where the lift fails, ``joints2d`` holds the argmax points the layer tried and the pose is null.
"""
from __future__ import annotations

import json
import os

import numpy as np

from lifting import skeleton
from lifting.geometry import UPRIGHT_CAMERA

from .cpm import map_to_image, preprocess


class MissingWeightsError(FileNotFoundError):
    pass


def estimate(image_paths, weights, prototxt, out_dir, box=None, camera=None, plot=True, log=print):
    """Run the extended net on every image; write ``<out_dir>/<stem>.json`` (joint names, ``joints2d_px``, the
    peak of each joint's final map as ``confidence``, ``pose3d_mm``, the CPM crop's ``cpm_box``) and, with ``plot``,
    ``<stem>.png``. ``image_paths``: files, or ``(name, RGB array)`` pairs. ``box``: person box x, y, w, h in image
    pixels, or a function RGB image -> box or None (e.g. the detector's person box); None: the whole image.
    ``camera``: E (default upright). Returns the list of JSON records."""
    import caffe

    from lifting.files import atomic_write_text
    from lifting.plot import save_lift_figure

    from .photo import read_image

    log = log or (lambda *a, **k: None)
    if not weights or not os.path.exists(weights):
        raise MissingWeightsError(
            f"network weights not found: {weights!r}. The original CPM weights cannot be shipped; convert yours with "
            "`lifting convert-cpm --cpm-prototxt <CPM deploy prototxt> --cpm-weights <pose_iter_*.caffemodel> "
            "-o lifting_init.caffemodel` (or train with `lifting train`), then pass --weights.")
    net = caffe.Net(prototxt, weights, caffe.TEST)
    missing = sorted({"pose3d", "joints2d"} - set(net.blobs))
    if missing:
        raise ValueError(f"{prototxt}: no {' or '.join(missing)} top; estimate needs the extended net (a final "
                         "Prob3DPoseLayer with tops pose3d and joints2d)")
    size = net.blobs["data"].data.shape[-1]
    os.makedirs(out_dir, exist_ok=True)
    results = []
    last = sorted(k for k in net.blobs if k.startswith("Mconv5_stage"))[-1] if any(
        k.startswith("Mconv5_stage") for k in net.blobs) else "conv7_stage1_new"
    for path in image_paths:
        path, rgb = path if isinstance(path, tuple) else (path, read_image(path))
        img = np.ascontiguousarray(rgb[:, :, ::-1])  # BGR, as CPM was trained
        b = box(rgb) if callable(box) else box
        data, tf = preprocess(img, b, size)
        net.blobs["data"].reshape(1, *data.shape)
        net.blobs["data"].data[0] = data
        if "camera" in net.blobs:
            cam = UPRIGHT_CAMERA if camera is None else np.asarray(camera, np.float64)
            net.blobs["camera"].data[...] = cam.reshape(1, 9)
        net.forward()
        joints = map_to_image(net.blobs["joints2d"].data[0].astype(np.float64), tf)
        pose = net.blobs["pose3d"].data[0].astype(np.float64)
        peak = net.blobs[last].data[0, : skeleton.NUM_JOINTS].max(axis=(1, 2))
        rec = {"image": path, "joint_names": list(skeleton.JOINT_NAMES), "joints2d_px": joints.round(2).tolist(),
               "confidence": peak.round(4).tolist(), "cpm_box": None if b is None else [round(float(v), 2) for v in b],
               "pose3d_mm": pose.round(2).tolist() if np.isfinite(pose).all() else None}
        stem = os.path.join(out_dir, os.path.splitext(os.path.basename(path))[0])
        atomic_write_text(stem + ".json", json.dumps(rec, indent=1))
        if plot:
            save_lift_figure(stem + ".png", joints, pose, image=rgb, title=os.path.basename(path))
        results.append(rec)
        log(f"{path}: 2D joints and 3D pose -> {stem}.json" + (f", {stem}.png" if plot else ""))
    return results
