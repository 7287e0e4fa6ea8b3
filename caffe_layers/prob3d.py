"""Prob3DPoseLayer: the probabilistic 3D pose layer (paper secs. 5.2-5.4) as a Caffe Python layer, a thin adapter
over :class:`lifting.belief_maps.MapLifter`.

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
Gaussians at its argmax locations and NaN 3D pose. Non-finite maps raise (:func:`caffe_layers.params.check_finite`).
Backward: the argmax is piecewise constant (no derivative), so the bottoms' diff is set to 0; learning signal
reaches the CNN through the fusion layer's ``w * b`` path.
``param_str`` JSON keys: ``model`` (pose-model file; null = the shipped default), ``num_angles`` (80),
``sigma`` (1.0), ``camera`` (3x3 list or null), ``joint_channels`` (list, default 0..16), ``background_channel``
(int or null, default 17), ``search`` (null = the exact angle optimum; "grid" = the paper's ``num_angles`` quantised
angles; "refine"), ``refine`` (false: old spelling of "refine"), ``subpixel`` (false), ``noise_2d`` (the lifter's 2D
noise as a fraction of the person's size; default :data:`lifting.lift.DEFAULT_NOISE_2D`, null = the model's own),
``confidence`` (how a joint's belief-map peak weights it in the lift: ``"none"`` = every joint counts fully, as in
the paper (default); ``"binary"`` = joints whose peak is below ``min_confidence`` are dropped, as the authors' demo
did with its visibility threshold; ``"peak"`` = the peak value itself, clipped to [0, 1], below ``min_confidence``
dropped), ``min_confidence`` (0.1).
"""
import caffe
import numpy as np

from lifting import skeleton
from lifting.belief_maps import MapLifter
from lifting.lift import DEFAULT_NOISE_2D

from .params import check_finite, read_param_str, shared_model

_KEYS = {"model", "num_angles", "sigma", "camera", "joint_channels", "background_channel", "refine", "subpixel",
         "noise_2d", "confidence", "min_confidence", "search"}


class Prob3DPoseLayer(caffe.Layer):
    def setup(self, bottom, top):
        p = read_param_str(self, _KEYS)
        if len(bottom) not in (1, 2) or len(top) not in (1, 2, 3):
            raise ValueError("Prob3DPoseLayer takes bottoms (maps[, camera]) and tops (maps[, pose3d[, joints2d]])")
        try:
            self.core = MapLifter(shared_model(p.get("model")), num_angles=int(p.get("num_angles", 80)),
                                  refine=bool(p.get("refine", False)), camera=p.get("camera"),
                                  sigma=float(p.get("sigma", 1.0)), subpixel=bool(p.get("subpixel", False)),
                                  joint_channels=p.get("joint_channels"),
                                  background_channel=p.get("background_channel", skeleton.NUM_JOINTS),
                                  noise_2d=p.get("noise_2d", DEFAULT_NOISE_2D), confidence=p.get("confidence", "none"),
                                  min_confidence=float(p.get("min_confidence", 0.1)), search=p.get("search"))
            self.core.check_channels(bottom[0].data.shape[1])
        except ValueError as e:
            raise ValueError(f"Prob3DPoseLayer: {e}") from None

    def reshape(self, bottom, top):
        n = bottom[0].data.shape[0]
        top[0].reshape(*bottom[0].data.shape)
        if len(top) > 1:
            top[1].reshape(n, skeleton.NUM_JOINTS, 3)
        if len(top) > 2:
            top[2].reshape(n, skeleton.NUM_JOINTS, 2)
        if len(bottom) > 1 and bottom[1].data.reshape(n, -1).shape[1] != 9:
            raise ValueError(f"Prob3DPoseLayer: camera bottom must hold 9 values a sample, got {bottom[1].data.shape}")

    def forward(self, bottom, top):
        check_finite(self, bottom[0].data)
        cams = bottom[1].data.reshape(bottom[0].data.shape[0], 9).astype(np.float64) if len(bottom) > 1 else None
        maps, pose, reproj = self.core(bottom[0].data, cams)
        top[0].data[...] = maps
        if len(top) > 1:
            top[1].data[...] = pose
        if len(top) > 2:
            top[2].data[...] = reproj

    def backward(self, top, propagate_down, bottom):
        for i in (i for i, pd in enumerate(propagate_down) if pd):  # blobs are reached by index (pycaffe)
            bottom[i].diff[...] = 0
