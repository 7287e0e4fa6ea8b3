"""FusionLayer: eq. (8), ``f = w * b + (1 - w) * b_hat`` with one learnable weight ``w`` per stage; a thin adapter
over :func:`lifting.belief_maps.fuse` and :func:`~lifting.belief_maps.fuse_gradients`.

Bottoms: ``b`` (CNN belief maps) and ``b_hat`` (projected 3D pose maps), same shape. Top: ``f``.

Parameterisation: the learnable blob holds ``w`` itself (shape (1,)), saved and loaded with the net's weights and
updated by the solver. It is kept in [0, 1] by projection: every forward first clips the stored value to [0, 1]
(projected SGD), so ``w`` as saved is always the weight used. Backward: ``df/dw = sum(top_diff * (b - b_hat))``,
``df/db = w * top_diff``, ``df/db_hat = (1 - w) * top_diff``. ``param_str`` JSON: ``{"init": 1.0}``; the default 1
makes a new net start as plain CPM (the authors' initialisation). Non-finite bottoms raise FloatingPointError
(:func:`caffe_layers.params.check_finite`).

``param_str`` key ``fusion``: ``"paper"`` (default: eq. 8 as above) or ``"authors"``: what the authors' code computes
(:func:`lifting.belief_maps.fuse_authors` and :func:`~lifting.belief_maps.fuse_authors_gradients`, their
``processheatmaps.py``): the blob holds two weights ``(w_hat, w_cnn)``, started at ``(1 - init, init)`` (the default
``init`` 1 gives their ``(0, 1)``), not clipped; the fused map is rescaled to the CNN map's maximum; their backward
pass (not the derivative of their forward).
"""

import caffe
import numpy as np

from lifting.belief_maps import fuse, fuse_authors, fuse_authors_gradients, fuse_gradients

from .params import check_finite, read_param_str


class FusionLayer(caffe.Layer):
    def setup(self, bottom, top):
        params = read_param_str(self, {"init", "fusion"})
        self.fusion = params.get("fusion", "paper")
        if self.fusion not in ("paper", "authors"):
            raise ValueError(f"FusionLayer: fusion must be 'paper' or 'authors', got {self.fusion!r}")
        if len(bottom) != 2 or len(top) != 1:
            raise ValueError(f"FusionLayer takes 2 bottoms (b, b_hat) and 1 top, got {len(bottom)} and {len(top)}")
        init = float(params.get("init", 1.0))
        if not 0.0 <= init <= 1.0:
            raise ValueError(f"FusionLayer: init must be in [0, 1], got {init}")
        if len(self.blobs) == 0:
            if self.fusion == "paper":
                self.blobs.add_blob(1)
                self.blobs[0].data[...] = init
            else:
                self.blobs.add_blob(2)
                self.blobs[0].data[...] = [1.0 - init, init]

    def reshape(self, bottom, top):
        if bottom[0].data.shape != bottom[1].data.shape:
            raise ValueError(f"FusionLayer: bottoms differ in shape {bottom[0].data.shape} vs {bottom[1].data.shape}")
        top[0].reshape(*bottom[0].data.shape)

    def forward(self, bottom, top):
        check_finite(self, bottom[0].data)
        check_finite(self, bottom[1].data)
        if self.fusion == "authors":
            top[0].data[...] = fuse_authors(bottom[0].data, bottom[1].data, self.blobs[0].data)
            return
        np.clip(self.blobs[0].data, 0.0, 1.0, out=self.blobs[0].data)
        top[0].data[...] = fuse(bottom[0].data, bottom[1].data, self.blobs[0].data[0])

    def backward(self, top, propagate_down, bottom):
        if self.fusion == "authors":
            d_b, d_b_hat, d_w = fuse_authors_gradients(top[0].diff, bottom[0].data, bottom[1].data,
                                                       self.blobs[0].data)
            self.blobs[0].diff[...] += d_w
        else:
            d_b, d_b_hat, d_w = fuse_gradients(top[0].diff, bottom[0].data, bottom[1].data, self.blobs[0].data[0])
            self.blobs[0].diff[0] += d_w
        if propagate_down[0]:
            bottom[0].diff[...] = d_b
        if propagate_down[1]:
            bottom[1].diff[...] = d_b_hat
