"""Prob3DPoseLayer: the probabilistic 3D pose layer (paper secs. 5.2-5.4) as a Caffe Python layer.

Bottoms:
  0. belief maps ``(N, C, H, W)`` of the stage (C = joints + background).
  1. (optional) camera rotations ``(N, 9)``: row-major E per sample (the known Human3.6M camera); without it
     the ``camera`` of ``param_str`` (default: an upright camera) is used for every sample.
Tops:
  0. projected belief maps, same shape as bottom 0: a Gaussian (sigma map pixels, peak 1) at each reprojected joint
     (eq. 6, 7) and, in the background channel, ``max(1 - max over joints, 0)``.
  1. (optional) 3D poses ``(N, 17, 3)`` in millimetres (world frame, y up, root at the origin).
  2. (optional) reprojected 2D joints ``(N, 17, 2)`` in map pixels (x, y).
Forward: argmax of every joint map (eq. 4, optional sub-pixel refinement), one vectorised lift of the whole batch
(:class:`lifting.lift.Lifter`), projection, rendering. A sample that cannot be lifted (e.g. all maps flat) gets
Gaussians at its argmax locations and NaN 3D pose.
Backward: the argmax is piecewise constant, so the layer's output does not depend differentiably on its input;
nothing flows to the bottoms (their diff is set to 0). Learning signal reaches the CNN through the fusion layer's
``w * b`` path.

``param_str`` JSON keys: ``model`` (pose-model file; null = the shipped default), ``num_angles`` (80),
``sigma`` (1.0), ``camera`` (3x3 list or null), ``joint_channels`` (list, default 0..16), ``background_channel``
(int or null, default 17), ``refine`` (false), ``subpixel`` (false), ``noise_2d`` (the lifter's 2D noise as a
fraction of the person's size; default :data:`lifting.lift.DEFAULT_NOISE_2D`, null = the model's own),
``confidence`` (how a joint's belief-map peak weights it in the lift: ``"none"`` = every joint counts fully, as in
the paper (default); ``"binary"`` = joints whose peak is below ``min_confidence`` are dropped, as the authors' demo
did with its visibility threshold; ``"peak"`` = the peak value itself, clipped to [0, 1], below ``min_confidence``
dropped), ``min_confidence`` (0.1).
"""
import json

import caffe
import numpy as np

from lifting import skeleton
from lifting.belief_maps import argmax_2d, background_map, render_belief_maps
from lifting.lift import DEFAULT_NOISE_2D, Lifter, group_rows
from lifting.model import load_model

_KEYS = {"model", "num_angles", "sigma", "camera", "joint_channels", "background_channel", "refine", "subpixel",
         "noise_2d", "confidence", "min_confidence"}
_CONFIDENCE = ("none", "binary", "peak")
_MODELS = {}


def _model(path):
    if path not in _MODELS:
        _MODELS[path] = load_model(path)
    return _MODELS[path]


class Prob3DPoseLayer(caffe.Layer):
    def setup(self, bottom, top):
        p = json.loads(self.param_str) if self.param_str else {}
        unknown = set(p) - _KEYS
        if unknown:
            raise ValueError(f"Prob3DPoseLayer: unknown param_str keys {sorted(unknown)}; known: {sorted(_KEYS)}")
        if len(bottom) not in (1, 2) or len(top) not in (1, 2, 3):
            raise ValueError("Prob3DPoseLayer takes bottoms (maps[, camera]) and tops (maps[, pose3d[, joints2d]])")
        self.joints = list(p.get("joint_channels", range(skeleton.NUM_JOINTS)))
        if len(self.joints) != skeleton.NUM_JOINTS:
            raise ValueError(f"Prob3DPoseLayer: joint_channels must list {skeleton.NUM_JOINTS} channels")
        self.background = p.get("background_channel", skeleton.NUM_JOINTS)
        self.sigma = float(p.get("sigma", 1.0))
        self.subpixel = bool(p.get("subpixel", False))
        self.model = _model(p.get("model"))
        self.num_angles = int(p.get("num_angles", 80))
        self.refine = bool(p.get("refine", False))
        self.noise_2d = p.get("noise_2d", DEFAULT_NOISE_2D)
        self.confidence = p.get("confidence", "none")
        if self.confidence not in _CONFIDENCE:
            raise ValueError(f"Prob3DPoseLayer: confidence must be one of {_CONFIDENCE}, got {self.confidence!r}")
        self.min_confidence = float(p.get("min_confidence", 0.1))
        camera = p.get("camera")
        self.default_lifter = self._make_lifter(None if camera is None else np.asarray(camera, np.float64))
        self._lifters = {}
        C = bottom[0].data.shape[1]
        used = self.joints + ([self.background] if self.background is not None else [])
        if max(used) >= C or min(used) < 0:
            raise ValueError(f"Prob3DPoseLayer: channels {used} do not fit a bottom with {C} channels")

    def reshape(self, bottom, top):
        n = bottom[0].data.shape[0]
        top[0].reshape(*bottom[0].data.shape)
        if len(top) > 1:
            top[1].reshape(n, skeleton.NUM_JOINTS, 3)
        if len(top) > 2:
            top[2].reshape(n, skeleton.NUM_JOINTS, 2)
        if len(bottom) > 1 and bottom[1].data.reshape(n, -1).shape[1] != 9:
            raise ValueError(f"Prob3DPoseLayer: camera bottom must hold 9 values a sample, got {bottom[1].data.shape}")

    def _make_lifter(self, cam):
        return Lifter(self.model, camera=cam, num_angles=self.num_angles, refine=self.refine, noise_2d=self.noise_2d)

    def _lifter(self, cam):
        key = np.round(cam, 9).tobytes()
        if key not in self._lifters:
            self._lifters[key] = self._make_lifter(cam.reshape(3, 3))
        return self._lifters[key]

    def weights(self, peaks):
        """Per-joint lifting weights ``(N, 17)`` from the belief-map peaks ``(N, 17)`` (``confidence`` key)."""
        if self.confidence == "none":
            return np.ones(peaks.shape)
        keep = peaks >= self.min_confidence
        if self.confidence == "binary":
            return keep.astype(np.float64)
        return np.where(keep, np.clip(peaks, 0.0, 1.0), 0.0).astype(np.float64)

    def lift(self, maps, cameras=None):
        """numpy core of the forward pass: maps ``(N, C, H, W)`` -> (projected maps, pose3d_mm, joints2d)."""
        n, _, h, w = maps.shape
        pts, peaks = argmax_2d(maps[:, self.joints], subpixel=self.subpixel)
        wts = self.weights(peaks)
        pose = np.full((n, skeleton.NUM_JOINTS, 3), np.nan)
        reproj = pts.copy()
        groups = [(None, np.arange(n))] if cameras is None else group_rows(np.round(cameras, 9))
        for cam, idx in groups:
            lifter = self.default_lifter if cam is None else self._lifter(cam)
            res = lifter.lift(pts[idx], wts[idx])
            ok = res.status == 0
            pose[idx[ok]] = res.pose3d_mm[ok]
            reproj[idx[ok]] = res.reprojected[ok]
        out = np.zeros(maps.shape, np.float32)
        jm = render_belief_maps(reproj, h, w, sigma=self.sigma)
        out[:, self.joints] = jm
        if self.background is not None:
            out[:, self.background] = background_map(jm)
        return out, pose, reproj

    def forward(self, bottom, top):
        cams = bottom[1].data.reshape(bottom[0].data.shape[0], 9).astype(np.float64) if len(bottom) > 1 else None
        maps, pose, reproj = self.lift(bottom[0].data, cams)
        top[0].data[...] = maps
        if len(top) > 1:
            top[1].data[...] = pose
        if len(top) > 2:
            top[2].data[...] = reproj

    def backward(self, top, propagate_down, bottom):
        for i, pd in enumerate(propagate_down):
            if pd:
                bottom[i].diff[...] = 0

