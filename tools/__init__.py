"""The network side's tools: CPM image conventions (``cpm``), checks of every file that reaches Caffe
(``caffe_files``), CPM weight conversion (``convert``), estimation on images (``estimate``), training (``train``) and
synthetic training images (``synth``).

Imports the core (:mod:`lifting`) and, through one named seam, the network definition (:mod:`prototxt.netdef`: its
``RENAMED`` table for conversion and ``solver`` text for training); never ``model_fitting`` nor ``caffe_layers`` (Caffe
loads those layers by module name from the prototxt).
"""
