"""Image -> 2D joints and 3D pose with the extended network (CPM preprocessing, forward, argmax, final lift)."""
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
    import caffe
    import cv2

    from lifting.belief_maps import argmax_2d
    from lifting.files import atomic_write_text
    from lifting.plot import save_lift_figure

    log = log or (lambda *a, **k: None)
    if not weights or not os.path.exists(weights):
        raise MissingWeightsError(
            f"network weights not found: {weights!r}. The original CPM weights cannot be shipped; convert yours with "
            "`lifting convert-cpm --cpm-prototxt <CPM deploy prototxt> --cpm-weights <pose_iter_*.caffemodel> "
            "-o lifting_init.caffemodel` (or train with `lifting train`), then pass --weights.")
    net = caffe.Net(prototxt, weights, caffe.TEST)
    size = net.blobs["data"].data.shape[-1]
    os.makedirs(out_dir, exist_ok=True)
    results = []
    last = sorted(k for k in net.blobs if k.startswith("Mconv5_stage"))[-1] if any(
        k.startswith("Mconv5_stage") for k in net.blobs) else "conv7_stage1_new"
    for path in image_paths:
        img = cv2.imread(path, cv2.IMREAD_COLOR)
        if img is None:
            raise ValueError(f"{path}: not a readable image")
        data, tf = preprocess(img, box, size)
        net.blobs["data"].reshape(1, *data.shape)
        net.blobs["data"].data[0] = data
        if "camera" in net.blobs:
            cam = UPRIGHT_CAMERA if camera is None else np.asarray(camera, np.float64)
            net.blobs["camera"].data[...] = cam.reshape(1, 9)
        net.forward()
        maps = net.blobs[last].data[:, : skeleton.NUM_JOINTS]
        pts, peak = argmax_2d(maps, subpixel=True)
        joints = map_to_image(pts[0], tf)
        pose = net.blobs["pose3d"].data[0].astype(np.float64) if "pose3d" in net.blobs else None
        rec = {"image": path, "joint_names": list(skeleton.JOINT_NAMES), "joints2d_px": joints.round(2).tolist(),
               "confidence": peak[0].round(4).tolist(),
               "pose3d_mm": None if pose is None or not np.isfinite(pose).all() else pose.round(2).tolist()}
        stem = os.path.join(out_dir, os.path.splitext(os.path.basename(path))[0])
        atomic_write_text(stem + ".json", json.dumps(rec, indent=1))
        if plot:
            save_lift_figure(stem + ".png", joints, pose if pose is not None else np.zeros((17, 3)),
                             image=img[:, :, ::-1], title=os.path.basename(path))
        results.append(rec)
        log(f"{path}: 2D joints and 3D pose -> {stem}.json" + (f", {stem}.png" if plot else ""))
    return results
