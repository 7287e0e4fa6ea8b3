"""A minimal learnable Python layer for the foundation tests: top = w * bottom (one scalar w)."""
import json

import caffe
import numpy as np


class ScaleLayer(caffe.Layer):
    def setup(self, bottom, top):
        params = json.loads(self.param_str or "{}")
        if len(bottom) != 1 or len(top) != 1:
            raise ValueError("ScaleLayer takes one bottom and one top")
        if len(self.blobs) == 0:
            self.blobs.add_blob(1)
            self.blobs[0].data[...] = params.get("init", 1.0)

    def reshape(self, bottom, top):
        top[0].reshape(*bottom[0].data.shape)

    def forward(self, bottom, top):
        top[0].data[...] = self.blobs[0].data[0] * bottom[0].data

    def backward(self, top, propagate_down, bottom):
        self.blobs[0].diff[0] += np.sum(top[0].diff * bottom[0].data)
        if propagate_down[0]:
            bottom[0].diff[...] = self.blobs[0].data[0] * top[0].diff
