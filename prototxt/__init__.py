"""The network definition (``netdef``: baseline CPM and the extended net, full and small variants, the solver) and
the generator of the committed prototxt files (``generate``). Imports the core (:mod:`lifting`) and Caffe's NetSpec;
the layers it names (``caffe_layers``) are referenced by module name only.
"""
import os

#: the folder of the committed prototxt files (this package's own folder)
FOLDER = os.path.dirname(os.path.abspath(__file__))


def path(name):
    """The absolute path of the committed prototxt file ``name`` (e.g. ``"lifting_h36m_full_deploy.prototxt"``)."""
    return os.path.join(FOLDER, name)
