"""Caffe Python layers of the extended CPM: thin adapters over :mod:`lifting.belief_maps` (``MapLifter``, ``fuse``)
that parse ``param_str``, check blob shapes and copy data. They import the core and Caffe only.

Use in a prototxt as ``python_param { module: "caffe_layers" layer: "Prob3DPoseLayer" }`` (or ``FusionLayer``).
"""
from .fusion import FusionLayer
from .prob3d import Prob3DPoseLayer

__all__ = ["FusionLayer", "Prob3DPoseLayer"]
