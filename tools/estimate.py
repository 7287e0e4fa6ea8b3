"""Image -> 2D joints and 3D pose with the extended network (CPM preprocessing, forward, final lift).

The reported 2D joints and 3D pose are the two outputs of the net's final Prob3DPoseLayer (tops ``joints2d`` and
``pose3d``): the lifted pose and its projection, one solution (the paper's 2D estimate is the projected 3D pose, its
Table 2). Where the lift fails, ``joints2d`` holds the argmax points the layer tried and the pose is null.
"""
from __future__ import annotations

import os

import numpy as np

from lifting import skeleton
from lifting.geometry import UPRIGHT_CAMERA

from .caffe_files import load_net
from .cpm import map_to_image, preprocess

#: status of an image whose final lift failed
NOT_LIFTED = "not lifted: no plausible 3D pose explains the belief-map maxima (joints2d_px are those maxima)"
#: what every field of an estimate's JSON holds (written into it)
FIELDS = {"status": "'ok', or why there is no 3D pose",
          "cpm_box": "the person box x, y, w, h in image pixels that centred the CPM crop (null: the whole image)",
          "joints2d_px": "2D joints in image pixels (x right, y down), in joint_names order: the projection of "
                         "pose3d_mm",
          "confidence": "peak of each joint's final belief map (0-1)",
          "pose3d_mm": "3D joints in millimetres, world frame: y up, root (Hip) at the origin (null when not lifted)"}


class MissingWeightsError(FileNotFoundError):
    pass


def estimate(image_paths, weights, prototxt, out_dir, box=None, camera=None, plot=True, log=print):
    """Run the extended net on every image; write ``<out_dir>/<stem>.json`` (``status``, joint names,
    ``joints2d_px``, the peak of each joint's final map as ``confidence``, ``pose3d_mm``, the CPM crop's ``cpm_box``
    and the ``fields`` table :data:`FIELDS`; valid JSON, null where there is no pose) and, with ``plot``,
    ``<stem>.png``. The prototxt and the weights are checked before Caffe reads them
    (:func:`tools.caffe_files.load_net`). ``image_paths``: files, or ``(name, RGB array)`` pairs. ``box``: person box
    x, y, w, h in image pixels, or a function RGB image -> box or None (e.g. the detector's person box); None: the
    whole image. ``camera``: E (default upright). Returns the list of JSON records."""
    from lifting.files import atomic_write_json
    from lifting.plot import save_lift_figure

    from .photo import InputError, read_image, write_unreadable

    log = log or (lambda *a, **k: None)
    if not weights or not os.path.exists(weights):
        raise MissingWeightsError(
            f"network weights not found: {weights!r}. The original CPM weights cannot be shipped; convert yours with "
            "`lifting convert-cpm --cpm-prototxt <CPM deploy prototxt> --cpm-weights <pose_iter_*.caffemodel> "
            "-o lifting_init.caffemodel` (or train with `lifting train`), then pass --weights.")
    net = load_net(prototxt, weights, hint="original CPM weights must be converted first (`lifting convert-cpm`)")
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
        if isinstance(path, tuple):
            path, rgb = path
        else:
            try:
                rgb = read_image(path)
            except InputError as e:  # one unreadable photo is recorded; the others go on
                from lifting.files import run_temp_folder

                with run_temp_folder(out_dir) as tmp:
                    results.append(write_unreadable(path, e, out_dir, tmp))
                log(f"error: {e}")
                continue
        img = np.ascontiguousarray(rgb[:, :, ::-1])  # BGR, as CPM was trained
        b = box(rgb) if callable(box) else box
        try:
            data, tf = preprocess(img, b, size)
        except ValueError as e:
            raise ValueError(f"{path}: {e}") from None
        net.blobs["data"].reshape(1, *data.shape)
        net.blobs["data"].data[0] = data
        if "camera" in net.blobs:
            cam = UPRIGHT_CAMERA if camera is None else np.asarray(camera, np.float64)
            net.blobs["camera"].data[...] = cam.reshape(1, 9)
        net.forward()
        joints = map_to_image(net.blobs["joints2d"].data[0].astype(np.float64), tf)
        pose = net.blobs["pose3d"].data[0].astype(np.float64)
        peak = net.blobs[last].data[0, : skeleton.NUM_JOINTS].max(axis=(1, 2))
        ok = bool(np.isfinite(pose).all())
        rec = {"image": path, "status": "ok" if ok else NOT_LIFTED,
               "cpm_box": None if b is None else [round(float(v), 2) for v in b],
               "joint_names": list(skeleton.JOINT_NAMES), "joints2d_px": joints.round(2).tolist(),
               "confidence": peak.round(4).tolist(), "pose3d_mm": pose.round(2).tolist() if ok else None,
               "fields": FIELDS}
        stem = os.path.join(out_dir, os.path.splitext(os.path.basename(path))[0])
        atomic_write_json(stem + ".json", rec)
        if plot:
            save_lift_figure(stem + ".png", joints, pose, image=rgb, title=os.path.basename(path))
        results.append(rec)
        log(f"{path}: 2D joints and 3D pose -> {stem}.json" + (f", {stem}.png" if plot else ""))
    return results
