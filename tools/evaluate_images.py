"""``lifting evaluate-images``: a trained network (the extended net, or the baseline CPM whose last-stage argmax is
lifted
by the same 3D pose model) over a prepared test set (``lifting h36m-prepare --protocol authors-test``), with the known
camera of every frame; or (``mode="gt"``) the true 2D lifted the same way, the lifting-only upper bound.

Every sample's dataset crop is warped into the network window exactly as the training data layer does at scale 1
without augmentation (:meth:`lifting.cpm.Augmentation.window`, cubic); every stage's CNN belief maps give 2D joints
in original-frame pixels, by default (``scoring="upsampled"``) as the authors scored them (their
``models/cpm_architecture/caffe_utils.py`` ``restoreSize`` and ``findPredictions``, called from ``runCaffeTest.py``
lines 67-68): each map resized to the frame pixels the window covers (Lanczos, ``cv2.INTER_LANCZOS4``) and its argmax
taken there (:func:`upsampled_argmax`); ``scoring="grid"``: the argmax on the stride-8 grid (eq. 4) mapped back,
what the probabilistic 3D pose layer itself uses. Each stage's 2D joints are lifted with the frame's camera (what the
stage's probabilistic 3D pose layer computes). The final 3D pose and 2D joints are the net's own ``pose3d`` /
``joints2d`` tops (the extended net's final lift) or, for the baseline, the lift of its last stage and the argmax
itself.

Output folder: ``run.json`` (settings; a resumed run must have the same), ``chunks/NNNNN.npz`` (per-frame results,
``chunk`` frames each, written atomically: a killed run resumes after the last written chunk), ``frames.npz`` (all
per-frame results, :data:`lifting.image_eval.FRAME_FIELDS`), ``results.md`` / ``.csv`` / ``.json`` / ``.png`` (the
tables beside the paper's and Figure 3's per-stage errors).
"""
from __future__ import annotations

import json
import os

import numpy as np

import prototxt
from lifting import skeleton
from lifting.image_eval import FRAME_FIELDS, crop_scales, crop_to_frame, lift_known_cameras, summarise, write_report

#: ``--net``: the full-size deploy nets
DEPLOY = {"lifting": prototxt.path("lifting_h36m_full_deploy.prototxt"),
          "cpm": prototxt.path("cpm_h36m_full_deploy.prototxt")}
NJ = skeleton.NUM_JOINTS


def stage_blobs(net_blobs):
    """The CNN belief-map outputs of every stage, in stage order: ``conv7_stage1_new``, ``Mconv5_stage2_new``, ..."""
    names = [b for b in net_blobs if b == "conv7_stage1_new" or (b.startswith("Mconv5_stage") and b.endswith("_new"))]
    names.sort(key=lambda b: 1 if b == "conv7_stage1_new" else int(b[len("Mconv5_stage"):-len("_new")]))
    if not names:
        raise ValueError("the net has no stage outputs (conv7_stage1_new, Mconv5_stageN_new): not a CPM/extended net")
    return names


def deploy_with_model(prototxt, model_path):
    """The text of ``prototxt`` with the ``model`` of every Prob3DPoseLayer set to ``model_path``."""
    from caffe.proto import caffe_pb2
    from google.protobuf import text_format

    net = caffe_pb2.NetParameter()
    with open(prototxt) as f:
        text_format.Merge(f.read(), net)
    for layer in net.layer:
        if layer.type == "Python" and layer.python_param.layer == "Prob3DPoseLayer":
            p = json.loads(layer.python_param.param_str or "{}")
            p["model"] = os.path.abspath(model_path)
            layer.python_param.param_str = json.dumps(p)
    return text_format.MessageToString(net)


#: ``scoring``: where the argmax of a belief map is taken (see the module's docstring)
SCORINGS = ("upsampled", "grid")


def upsampled_argmax(maps, frame_to_window, size):
    """The authors' 2D joints of one frame: belief maps ``(J, G, G)`` of a ``size x size`` window (``G = size / 8``)
    resized with Lanczos to the frame pixels the window covers and the argmax taken there (the first maximum in
    row-major order, as their ``findPoint``). ``frame_to_window``: the ``(2, 3)`` affine from frame pixels to window
    pixels, axis-aligned (scale and shift: no rotation at test time). Returns ``(J, 2)`` frame pixels (x, y)."""
    import cv2

    A = np.asarray(frame_to_window, np.float64)
    if abs(A[0, 1]) > 1e-9 or abs(A[1, 0]) > 1e-9 or not (A[0, 0] > 0 and A[1, 1] > 0):
        raise ValueError(f"upsampled argmax needs an axis-aligned frame -> window transform, got {A.tolist()}")
    maps = np.asarray(maps, np.float32)
    span = size / np.array([A[0, 0], A[1, 1]])  # the window's width and height in frame pixels
    w, h = (max(1, int(round(v))) for v in span)
    # one channel at a time: about 3x faster than one 17-channel resize and a strided argmax
    flat = np.array([cv2.resize(m, (w, h), interpolation=cv2.INTER_LANCZOS4).argmax() for m in maps])
    rows, cols = np.divmod(flat, w)
    left = (-0.5 - A[:, 2]) / np.diag(A[:, :2])  # the window's outer edge in frame coordinates (pixel k spans k +- 0.5)
    return np.stack([left[0] + (cols + 0.5) * span[0] / w, left[1] + (rows + 0.5) * span[1] / h], axis=-1)


def dataset_fingerprint(dataset):
    """The content of a prepared dataset: the SHA-256 of its manifest and of every shard it lists (streamed)."""
    from lifting.dataset import MANIFEST, read_manifest
    from lifting.files import sha256_file

    m = read_manifest(dataset)
    return {"path": os.path.abspath(dataset), "manifest_sha256": sha256_file(os.path.join(dataset, MANIFEST)),
            "shards_sha256": {s["file"]: sha256_file(os.path.join(dataset, s["file"])) for s in m["shards"]}}


def _settings(dataset, n, mode, net, weights, prototxt, model, num_angles, chunk, scoring="upsampled",
              interpolation="cubic"):
    """Everything a run's results depend on, files by content (:func:`lifting.files.file_fingerprint`): a resumed run
    must have every one of them unchanged."""
    from lifting.files import file_fingerprint
    from lifting.model import default_model_path

    return {"dataset": dataset_fingerprint(dataset), "samples": n, "mode": mode,
            "net": net if mode == "net" else None, "weights": file_fingerprint(weights),
            "prototxt": file_fingerprint(prototxt), "model": file_fingerprint(model or default_model_path()),
            "num_angles": int(num_angles), "chunk": int(chunk), "scoring": scoring if mode == "net" else None,
            # only where not the default, so that runs made before the option keep their fingerprint
            **({"interpolation": interpolation} if mode == "net" and interpolation != "cubic" else {})}


def _check_settings(out, settings):
    """Record the settings in ``out/run.json``, or refuse a folder whose recorded run differs, naming what changed."""
    from lifting.files import atomic_write_text, differences, read_json

    path = os.path.join(out, "run.json")
    if os.path.exists(path):
        old = read_json(path)
        changed = differences(old if isinstance(old, dict) else {}, settings)
        if changed:
            raise ValueError(f"{path}: the folder holds another evaluation, {len(changed)} difference(s) with this run "
                             f"({'; '.join(changed[:4])}{'; ...' if len(changed) > 4 else ''}): its results would be "
                             "mixed with this run's; use another --out, or the same files and settings to resume it")
    else:
        chunks = os.path.join(out, "chunks")
        if os.path.isdir(chunks) and any(f.endswith(".npz") for f in os.listdir(chunks)):
            raise ValueError(f"{chunks}: holds per-frame results but {path} (what they were computed from) is missing: "
                             "they cannot be told to belong to this run; use another --out or delete the folder")
        atomic_write_text(path, json.dumps(settings, indent=1, sort_keys=True))


class NetRunner:
    """The network on one batch of dataset samples -> per-frame result rows (frame pixels, camera-frame mm)."""

    def __init__(self, prototxt, weights, model, num_angles, device="cpu", scoring="upsampled", interpolation="cubic"):
        import caffe

        from lifting.cpm import Augmentation

        if device == "cpu":
            caffe.set_mode_cpu()
        else:
            caffe.set_mode_gpu()
            caffe.set_device(int(device))
        from .caffe_files import load_net

        self.net = load_net(prototxt, weights, hint="train the net with `lifting train --data` (or convert CPM "
                                                    "weights with `lifting convert-cpm`)")
        self.size = int(self.net.blobs["data"].data.shape[-1])
        self.aug = Augmentation(crop=self.size, interpolation=interpolation)
        self.stages = stage_blobs(self.net.blobs)
        self.has_lift = {"pose3d", "joints2d"} <= set(self.net.blobs)
        self.model, self.num_angles, self.scoring = model, num_angles, scoring

    def window(self, sample):
        """Dataset crop -> ``(network input (4, c, c), crop -> window affine (2, 3))``, as the data layer at scale 1."""
        from lifting.window import crop_to_window, decode_jpeg

        M = self.aug.window(sample["objpos"], sample["box"])
        data = crop_to_window(decode_jpeg(sample["jpeg"]), M, self.size, sample["objpos"], self.aug.sigma_center,
                              self.aug.interpolation)
        return data, M

    def __call__(self, samples, E, crop_transform):
        from lifting.belief_maps import argmax_2d
        from lifting.cpm import map_to_window

        b = len(samples)
        data = np.empty((b, 4, self.size, self.size), np.float32)
        inv, Ms = np.empty((b, 2, 3)), np.empty((b, 2, 3))  # window -> crop, crop -> window
        for k, s in enumerate(samples):
            data[k], Ms[k] = self.window(s)
            A = np.linalg.inv(Ms[k, :, :2])
            inv[k] = np.concatenate([A, -A @ Ms[k, :, 2:]], axis=1)
        self.net.blobs["data"].reshape(*data.shape)
        self.net.blobs["data"].data[...] = data
        if "camera" in self.net.blobs:
            self.net.blobs["camera"].reshape(b, 9)
            self.net.blobs["camera"].data[...] = E.reshape(b, 9)
        self.net.forward()

        def to_frame(points_map):
            win = map_to_window(points_map)
            crop = np.einsum("nij,nlj->nli", inv[:, :, :2], win) + inv[:, None, :, 2]
            return crop_to_frame(crop, crop_transform)

        if self.scoring == "grid":
            s2d = np.stack([to_frame(argmax_2d(self.net.blobs[name].data[:, :NJ])[0]) for name in self.stages], 1)
        else:  # frame -> window: the crop transform, then the window of the crop
            ct = np.asarray(crop_transform, np.float64)
            sc = crop_scales(ct)
            fw = np.empty((b, 2, 3))
            for k in range(b):
                fw[k, :, :2] = Ms[k, :, :2] * sc[k]
                fw[k, :, 2] = Ms[k, :, :2] @ ct[k, 1:3] + Ms[k, :, 2]
            s2d = np.stack([np.stack([upsampled_argmax(self.net.blobs[name].data[k, :NJ], fw[k], self.size)
                                      for k in range(b)]) for name in self.stages], 1)
        s3d = np.full(s2d.shape[:-1] + (3,), np.nan)
        status = None
        for t in range(len(self.stages)):
            s3d[:, t], _, status = lift_known_cameras(self.model, s2d[:, t], E, num_angles=self.num_angles)
        if self.has_lift:  # the net's own final lift (world frame, y up) -> camera frame
            pose = self.net.blobs["pose3d"].data.astype(np.float64)
            pred3d = np.einsum("nij,nlj->nli", E, pose)
            pred2d = to_frame(self.net.blobs["joints2d"].data.astype(np.float64))
            status = np.where(np.isfinite(pose).all(axis=(1, 2)), 0, status if status is not None else 1)
        else:
            pred3d, pred2d = s3d[:, -1], s2d[:, -1]
        return {"pred2d_px": pred2d, "argmax2d_px": s2d[:, -1], "pred3d_mm": pred3d, "status": status,
                "stage2d_px": s2d, "stage3d_mm": s3d}


def _gt_rows(gt2d, E, model, num_angles):
    pose, reproj, status = lift_known_cameras(model, gt2d, E, num_angles=num_angles)
    n = len(gt2d)
    return {"pred2d_px": reproj, "argmax2d_px": np.full((n, NJ, 2), np.nan), "pred3d_mm": pose, "status": status,
            "stage2d_px": np.zeros((n, 0, NJ, 2)), "stage3d_mm": np.zeros((n, 0, NJ, 3))}


def _chunk_rows(ds, lo, hi, batch, runner, model, num_angles, rows):
    """Evaluate samples ``lo..hi`` batch by batch, appending to ``rows`` (field -> list of arrays); yields the number
    of frames of each batch (for the progress bar)."""
    for start in range(lo, hi, batch):
        idx = range(start, min(hi, start + batch))
        samples = [ds.sample(i) for i in idx]
        metas = [ds.meta(i) for i in idx]
        E = np.stack([s["E"] for s in samples]).astype(np.float64)
        ct = np.stack([m["crop_transform"] for m in metas])
        gt2d = crop_to_frame(np.stack([s["joints2d"] for s in samples]), ct)
        got = _gt_rows(gt2d, E, model, num_angles) if runner is None else runner(samples, E, ct)
        got.update(subject=[m["subject"] for m in metas], action=[m["action"] for m in metas],
                   camera=[m["camera"] for m in metas], frame=[m["frame"] for m in metas], gt2d_px=gt2d,
                   visible=np.stack([s["visible"] for s in samples]),
                   gt3d_mm=np.stack([m["joints3d_camera_mm"] for m in metas]).astype(np.float64))
        for k in FRAME_FIELDS:
            rows[k].append(np.asarray(got[k]))
        yield len(idx)


def evaluate_images(dataset, out, mode="net", net="lifting", weights=None, prototxt=None, model=None, device="cpu",
                    batch=8, chunk=256, num_angles=80, label=None, scoring="upsampled", interpolation="cubic",
                    log=print):
    """Evaluate (or finish evaluating) into ``out``; returns the run's summary (:class:`lifting.image_eval.RunSummary`).
    ``mode``: ``"net"`` or ``"gt"`` (the true 2D lifted); ``net``: ``"lifting"`` or ``"cpm"``; ``model``: 3D pose
    model file for every lift (None: the shipped default; in the extended net it replaces the prototxt's);
    ``device``: ``"cpu"`` or a GPU id; ``scoring``: one of :data:`SCORINGS` (the network's 2D joints);
    ``interpolation``: the warp into the network window (:data:`lifting.window.INTERPOLATIONS`), as in training."""
    from tqdm import tqdm

    from lifting.dataset import PreparedDataset
    from lifting.files import atomic_savez
    from lifting.model import load_model

    if mode not in ("net", "gt"):
        raise ValueError(f"--2d must be 'net' or 'gt', got {mode!r}")
    if net not in DEPLOY:
        raise ValueError(f"--net must be one of {sorted(DEPLOY)}, got {net!r}")
    if scoring not in SCORINGS:
        raise ValueError(f"--scoring must be one of {list(SCORINGS)}, got {scoring!r}")
    from lifting.window import INTERPOLATIONS

    if interpolation not in INTERPOLATIONS:
        raise ValueError(f"--interpolation must be one of {list(INTERPOLATIONS)}, got {interpolation!r}")
    if batch < 1 or chunk < 1:
        raise ValueError(f"--batch and --chunk must be >= 1, got {batch} and {chunk}")
    if device != "cpu":
        from .devices import probe_gpus

        probe_gpus([int(device)])  # at once: a CPU-only Caffe fails here, saying how to build one with CUDA
    if mode == "net":
        if not weights or not os.path.exists(weights):
            raise FileNotFoundError(f"--weights {weights!r}: no such .caffemodel "
                                    "(train one with `lifting train --data`)")
        prototxt = prototxt or DEPLOY[net]
        if not os.path.exists(prototxt):
            raise FileNotFoundError(f"--prototxt {prototxt}: no such file")
    elif weights or prototxt:
        raise ValueError("--weights/--prototxt belong to --2d net; --2d gt runs no network")
    lift_model = load_model(model)
    ds = PreparedDataset(dataset)
    n = len(ds)
    os.makedirs(os.path.join(out, "chunks"), exist_ok=True)
    _check_settings(out, _settings(dataset, n, mode, net, weights, prototxt, model, num_angles, chunk, scoring,
                                 interpolation))
    runner = None
    if mode == "net" and model is not None:
        from lifting.files import atomic_write_text

        atomic_write_text(os.path.join(out, "net.prototxt"), deploy_with_model(prototxt, model))
        prototxt = os.path.join(out, "net.prototxt")
    paths = [os.path.join(out, "chunks", f"{c:05d}.npz") for c in range((n + chunk - 1) // chunk)]
    done = sum(min(chunk, n - c * chunk) for c, p in enumerate(paths) if os.path.exists(p))
    if log and done:
        log(f"resuming: {done} of {n} frames already evaluated in {out}/chunks")
    with tqdm(total=n, initial=done, desc="evaluate-images", unit="frame", disable=log is None) as bar:
        for c, path in enumerate(paths):
            if os.path.exists(path):
                continue
            if mode == "net" and runner is None:
                runner = NetRunner(prototxt, weights, lift_model, num_angles, device, scoring, interpolation)
            rows = {k: [] for k in FRAME_FIELDS}
            for k in _chunk_rows(ds, c * chunk, min(n, (c + 1) * chunk), batch, runner, lift_model, num_angles, rows):
                bar.update(k)
            atomic_savez(path, **{k: np.concatenate(v) for k, v in rows.items()})
    frames = {}
    for path in paths:
        with np.load(path) as z:
            for k in FRAME_FIELDS:
                frames.setdefault(k, []).append(z[k])
    frames = {k: np.concatenate(v) for k, v in frames.items()}
    atomic_savez(os.path.join(out, "frames.npz"), **frames)
    summary = summarise(frames)
    if not label:
        label = default_label(mode, net, lift_model)
        if mode == "net":
            label += ", 2D " + ("upsampled (Lanczos) argmax" if scoring == "upsampled" else "grid argmax")
    md = write_report(os.path.join(out, "results"), {label: summary},
                      f"evaluate-images: {label}, {n} frames of {os.path.abspath(dataset)}")
    if log:
        log(md)
        log(f"-> {out}/frames.npz, results.md, results.csv, results.json" + (", results.png" if summary.stages
                                                                            else ""))
    return summary


def default_label(mode, net, model):
    k = f"K={model.num_components}"
    if mode == "gt":
        return f"true 2D + lift ({k})"
    return f"extended net ({k})" if net == "lifting" else f"baseline CPM + lift ({k})"
