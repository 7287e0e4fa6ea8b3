"""The core: framework-free numerics of Lifting from the Deep (numpy, scipy, h5py; matplotlib only in ``plot``).

Modules, lowest first: ``skeleton`` (the tables), ``geometry`` (eqs. 2 and 6, frames, normalisation), ``errors``
(exceptions the command line reports), ``files`` (atomic writes, valid JSON, keypoint readers), ``model`` (PoseModel
and its HDF5 file), ``lift`` (eqs. 5-6), ``belief_maps`` (eqs. 4, 7, 8 and their composition with the lifter),
``metrics`` and ``report`` (errors, Table 1), ``synthetic`` (random models and poses drawn from a model), ``plot``
(figures). Nothing here imports the packages above it
(``model_fitting``, ``caffe_layers``, ``prototxt``, ``tools``, ``lifting_cli``); ``tests/test_layering.py`` checks.
"""
