"""The network definition (``netdef``: baseline CPM and the extended net, full and small variants, the solver) and
the generator of the committed prototxt files (``generate``). Imports the core (:mod:`lifting`) and Caffe's NetSpec;
the layers it names (``caffe_layers``) are referenced by module name only.
"""
