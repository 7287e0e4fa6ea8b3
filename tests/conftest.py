import os

import numpy as np
import pytest

from lifting.geometry import rotate_ground
from lifting.synthetic import make_model, sample_poses
from tests.helpers import shared_path

os.environ.setdefault("GLOG_minloglevel", "2")
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture(scope="session")
def posed():
    """Poses from a known 1-component model, each rotated by a known ground-plane angle:
    ``(model, canonical (400, 17, 3), theta (400,), rotated (400, 17, 3))``."""
    model = make_model(K=1, J=3, seed=7, noise=1e-6)
    canon, a, theta, _ = sample_poses(model, 400, seed=8)
    return model, canon, theta, rotate_ground(canon, theta)


@pytest.fixture(scope="session")
def s1_poses():
    """Every 10th pose of subject S1 in the shared Human3.6M file (y up, mm, real handedness)."""
    from model_fitting.data import load_h36m_npz

    return load_h36m_npz(shared_path("data", "h36m_poses_17j_5fps.npz"), ["S1"], step=10)[0]


@pytest.fixture(scope="session")
def official_tree(tmp_path_factory):
    """A miniature Human3.6M release in the official layout (model_fitting/miniature.py):
    ``(root, cameras, labels)``."""
    from model_fitting.miniature import make_official_tree

    root = tmp_path_factory.mktemp("h36m_release")
    cams, labels = make_official_tree(str(root), shared_path("data", "h36m_fixture"))
    return str(root), cams, labels


@pytest.fixture(scope="session")
def prepared_h36m(official_tree, tmp_path_factory):
    """That release through ``h36m-prepare`` (subjects S1, S5, S11, every 5th frame, the joints' extent crop, which
    leaves room for the augmentation): the dataset folder."""
    from model_fitting.prepare import prepare

    out = tmp_path_factory.mktemp("h36m_prepared")
    prepare(official_tree[0], str(out), shared_path("data", "h36m_fixture", "cameras.json"),
            subjects=["S1", "S5", "S11"], crop="extent", log=None)
    return str(out)
