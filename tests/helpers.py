"""Helpers of the tests: the shared data folder, angle wrapping (models and poses: :mod:`lifting.synthetic`)."""
import os

import numpy as np
import pytest

SHARED = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared"))


def shared_path(*parts):
    """Path inside ../shared; skips the test with a clear message when it is absent."""
    p = os.path.join(SHARED, *parts)
    if not os.path.exists(p):
        pytest.skip(f"shared data not found: {p} (the ../shared folder beside the project)")
    return p


def wrap(d):
    """Angles wrapped to (-pi, pi]."""
    return np.angle(np.exp(1j * d))
