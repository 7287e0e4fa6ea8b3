"""Probabilistic PCA in closed form (Tipping & Bishop 1999) and its Gaussian density, vectorised.

Vectors are poses without the root joint (always 0 after root-centring): D = 48 = 16 joints x 3.
A PPCA component is a :class:`PPCAComponent` ``(mu (D,), U (D, J) orthonormal, lam (J,) eigenvalues, s2)``; its
covariance is ``C = U diag(lam) U^T + s2 (I - U U^T)``. The prior variance of a basis coefficient is ``lam - s2``.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

LOG2PI = np.log(2 * np.pi)


class PPCAComponent(NamedTuple):
    """One PPCA component (a tuple, so ``mu, U, lam, s2 = c`` and ``f(X, *c)`` still work)."""

    #: mean ``(D,)``
    mu: np.ndarray
    #: orthonormal basis ``(D, J)``
    U: np.ndarray
    #: the eigenvalues of the basis directions ``(J,)``
    lam: np.ndarray
    #: the isotropic variance off the basis
    s2: float


def ppca_from_moments(mean, cov, J, min_var=1e-12):
    """Closed-form maximum-likelihood PPCA with J basis vectors from a mean and a (biased) covariance."""
    D = cov.shape[0]
    evals, evecs = np.linalg.eigh(cov)
    order = np.argsort(evals)[::-1]
    evals, evecs = np.maximum(evals[order], 0.0), evecs[:, order]
    s2 = max(float(evals[J:].mean()) if J < D else min_var, min_var)
    lam = np.maximum(evals[:J], s2 * (1 + 1e-9))
    U = evecs[:, :J]
    # a deterministic sign: the largest-magnitude entry of each basis vector is positive
    signs = np.sign(U[np.argmax(np.abs(U), axis=0), np.arange(J)])
    signs[signs == 0] = 1
    return PPCAComponent(mean, U * signs, lam, s2)


def moments(X, weights=None, overwrite=False):
    """Mean and biased covariance of the rows of ``X (N, D)`` (optionally weighted); ``overwrite`` centres X in
    place instead of making a centred copy."""
    if weights is None:
        mu = X.mean(0)
        R = X if overwrite else X.copy()
        R -= mu
        return mu, (R.T @ R) / len(X)
    wsum = weights.sum()
    mu = weights @ X / wsum
    R = X if overwrite else X.copy()
    R -= mu
    return mu, (R.T * weights) @ R / wsum


def ppca_fit(X, J, weights=None):
    """PPCA of rows of ``X (N, D)`` (optionally weighted). Returns (mu, U, lam, s2)."""
    return ppca_from_moments(*moments(X, weights), J)


def mahalanobis(X, mu, U, lam, s2):
    """``(X - mu)^T C^-1 (X - mu)`` for rows of X: ``(N, D)`` -> ``(N,)``."""
    R = X - mu
    proj = R @ U
    return np.einsum("nd,nd->n", R, R) / s2 - proj**2 @ (1.0 / s2 - 1.0 / lam)


def log_det(U, lam, s2):
    D = U.shape[0]
    return float(np.sum(np.log(lam)) + (D - len(lam)) * np.log(s2))


def log_density(X, mu, U, lam, s2):
    """Gaussian log density of rows of X under the PPCA component."""
    D = X.shape[1]
    return -0.5 * (mahalanobis(X, mu, U, lam, s2) + log_det(U, lam, s2) + D * LOG2PI)
