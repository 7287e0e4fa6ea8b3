"""Helpers of the tests: the shared data folder, angle wrapping, interrupted checkpoint writers (models and poses:
:mod:`lifting.synthetic`)."""
import os

import numpy as np
import pytest

from lifting.files import atomic_savez

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


def interrupted_after(n):
    """A checkpoint writer that writes, then interrupts the run at its n-th call."""
    calls = []

    def savez(path, **arrays):
        atomic_savez(path, **arrays)
        calls.append(path)
        if len(calls) == n:
            raise KeyboardInterrupt(f"interrupted after {n} checkpoints")

    return savez
