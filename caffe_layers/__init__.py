"""Caffe Python layers of the extended CPM: thin adapters over :mod:`lifting.belief_maps` (``MapLifter``, ``fuse``)
and, for training on a prepared Human3.6M dataset, the data layer over :mod:`caffe_layers.batches`; they parse
``param_str``, check blob shapes and copy data. They import the core, Caffe and OpenCV only.

Use in a prototxt as ``python_param { module: "caffe_layers" layer: "Prob3DPoseLayer" }`` (or ``FusionLayer``).
"""
from .data import H36MDataLayer
from .fusion import FusionLayer
from .prob3d import Prob3DPoseLayer

__all__ = ["FusionLayer", "H36MDataLayer", "Prob3DPoseLayer"]
