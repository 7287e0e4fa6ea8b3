"""Synthetic poses and models, for tests, benchmarks and checks that need a known truth: a hand-made standing
skeleton, random pose models around it, and poses drawn from any :class:`~lifting.model.PoseModel` (its generative
process: a component by the mixing weights, coefficients from the prior, a random ground-plane angle).
"""
from __future__ import annotations

import numpy as np

from . import skeleton
from .model import PoseModel

#: a hand-made T-ish standing skeleton (y up), in arbitrary units, skeleton order
STANDING = np.array([
    [0, 0, 0], [-1, 0, 0], [-1, -4, 0.3], [-1, -8, 0], [1, 0, 0], [1, -4, 0.3], [1, -8, 0],
    [0, 2, 0], [0, 4, 0], [0, 5, 0.2], [0, 6, 0], [1.5, 4, 0], [3, 2.5, 0.5], [4, 1, 1],
    [-1.5, 4, 0], [-3, 2.5, 0.5], [-4, 1, 1]], dtype=np.float64)


def make_model(K=1, J=4, seed=0, noise=1e-4):
    """A random K-component model: means around :data:`STANDING` (unit limb scale), random orthonormal bases of J
    poses, prior variances in [0.002, 0.02], noise variance ``noise``, uniform weights, 1000 mm per unit."""
    rng = np.random.default_rng(seed)
    mean = np.empty((K, skeleton.NUM_JOINTS, 3))
    basis = np.empty((K, J, skeleton.NUM_JOINTS, 3))
    for k in range(K):
        m = STANDING + 0.3 * rng.normal(size=STANDING.shape)
        m -= m[0]
        mean[k] = m / skeleton.limb_scale(m)
        q, _ = np.linalg.qr(rng.normal(size=(3 * skeleton.NUM_JOINTS, J)))
        basis[k] = q.T.reshape(J, skeleton.NUM_JOINTS, 3)
    variances = np.sort(rng.uniform(0.002, 0.02, size=(K, J)))[:, ::-1].copy()
    return PoseModel(mean, basis, variances, np.full(K, noise), np.full(K, 1.0 / K), mm_per_unit=1000.0)


def sample_poses(model, n, seed=0, k=None):
    """``n`` poses drawn from ``model`` (component ``k`` only when given).

    Returns ``(canonical (n, 17, 3) model units, coefficients a (n, J), ground-plane angles theta (n,),
    components (n,))``; ``rotate_ground(canonical, theta)`` are the posed bodies."""
    rng = np.random.default_rng(seed)
    comp = rng.choice(model.num_components, size=n, p=model.weights) if k is None else np.full(n, k)
    a = rng.normal(size=(n, model.num_basis)) * np.sqrt(model.variances[comp])
    canon = model.mean[comp] + np.einsum("nj,njlc->nlc", a, model.basis[comp])
    theta = rng.uniform(0, 2 * np.pi, size=n)
    return canon, a, theta, comp
