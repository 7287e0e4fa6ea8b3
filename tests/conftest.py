import os
import sys

import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)  # Python layers defined in tests/ are importable by name from prototxt
os.environ.setdefault("GLOG_minloglevel", "2")
os.environ.setdefault("MPLBACKEND", "Agg")

SHARED = os.path.abspath(os.path.join(HERE, "..", "..", "shared"))
SHARED_DATA = os.path.join(SHARED, "data")


def shared_path(*parts):
    """Path inside ../shared; skips the test with a clear message when it is absent."""
    p = os.path.join(SHARED, *parts)
    if not os.path.exists(p):
        pytest.skip(f"shared data not found: {p} (the ../shared folder beside the project)")
    return p


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
