"""Helpers of the tests: the shared data folder, small models and poses made by the tests themselves."""
import os

import numpy as np
import pytest

from lifting import skeleton
from lifting.model import PoseModel

SHARED = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared"))


def shared_path(*parts):
    """Path inside ../shared; skips the test with a clear message when it is absent."""
    p = os.path.join(SHARED, *parts)
    if not os.path.exists(p):
        pytest.skip(f"shared data not found: {p} (the ../shared folder beside the project)")
    return p


# A hand-made T-ish standing skeleton (y up), in arbitrary units.
STANDING = np.array([
    [0, 0, 0], [-1, 0, 0], [-1, -4, 0.3], [-1, -8, 0], [1, 0, 0], [1, -4, 0.3], [1, -8, 0],
    [0, 2, 0], [0, 4, 0], [0, 5, 0.2], [0, 6, 0], [1.5, 4, 0], [3, 2.5, 0.5], [4, 1, 1],
    [-1.5, 4, 0], [-3, 2.5, 0.5], [-4, 1, 1]], dtype=np.float64)


def make_model(K=1, J=4, seed=0, noise=1e-4):
    """A random K-component model around STANDING with orthonormal bases of J poses (unit limb scale)."""
    rng = np.random.default_rng(seed)
    mean = np.empty((K, 17, 3))
    basis = np.empty((K, J, 17, 3))
    for k in range(K):
        m = STANDING + 0.3 * rng.normal(size=STANDING.shape)
        m -= m[0]
        mean[k] = m / skeleton.limb_scale(m)
        q, _ = np.linalg.qr(rng.normal(size=(51, J)))
        basis[k] = q.T.reshape(J, 17, 3)
    variances = np.sort(rng.uniform(0.002, 0.02, size=(K, J)))[:, ::-1].copy()
    return PoseModel(mean, basis, variances, np.full(K, noise), np.full(K, 1.0 / K), mm_per_unit=1000.0)


def sample_poses(model, n, seed=0, k=None):
    """Poses drawn from the model: returns (canonical (n,17,3), a (n,J), theta (n,), comp (n,))."""
    rng = np.random.default_rng(seed)
    comp = rng.integers(model.num_components, size=n) if k is None else np.full(n, k)
    a = rng.normal(size=(n, model.num_basis)) * np.sqrt(model.variances[comp])
    canon = model.mean[comp] + np.einsum("nj,njlc->nlc", a, model.basis[comp])
    theta = rng.uniform(0, 2 * np.pi, size=n)
    return canon, a, theta, comp


def wrap(d):
    """Angles wrapped to (-pi, pi]."""
    return np.angle(np.exp(1j * d))
