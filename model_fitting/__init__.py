"""Offline fitting of the 3D pose model on motion capture (paper sec. 4), its readers and its evaluation.

An application of the core (:mod:`lifting`): imports the core and itself, never the network side (``caffe_layers``,
``prototxt``, ``tools``) nor the command line.
"""
