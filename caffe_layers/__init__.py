"""Caffe Python layers of the extended CPM (thin adapters over :mod:`lifting`).

Use in a prototxt as ``python_param { module: "caffe_layers" layer: "Prob3DPoseLayer" }`` (or ``FusionLayer``).
"""
from .fusion import FusionLayer
from .prob3d import Prob3DPoseLayer

__all__ = ["FusionLayer", "Prob3DPoseLayer"]
