"""Mixture of PPCA (paper sec. 4.2): greedy seeds by eq. (3) with the "too close" rule, then EM (Tipping & Bishop)."""
from __future__ import annotations

import numpy as np
from scipy.special import logsumexp

from .ppca import log_density, ppca_fit


def pairwise_distances(X):
    sq = np.einsum("nd,nd->n", X, X)
    d2 = sq[:, None] + sq[None, :] - 2 * X @ X.T
    return np.sqrt(np.maximum(d2, 0.0))


def greedy_seeds(X, max_components, min_separation=None):
    """Greedy minimisation of eq. (3): ``sum_p min_{s in S} d(s, p)`` over sample subsets S.

    The candidate that lowers the cost most is added, unless it lies closer than ``min_separation`` to a seed
    already chosen; such candidates are passed over ("too close"), and the search stops when no acceptable candidate
    lowers the cost or ``max_components`` seeds are chosen. ``min_separation`` defaults to half the median pairwise
    distance. Returns the indices of the seeds in X.
    """
    d = pairwise_distances(X)
    if min_separation is None:
        min_separation = 0.5 * float(np.median(d[np.triu_indices(len(X), 1)]))
    first = int(np.argmin(d.sum(1)))
    seeds = [first]
    nearest = d[first].copy()
    while len(seeds) < max_components:
        cost = np.minimum(nearest[None, :], d).sum(1)  # cost of S + {candidate}
        too_close = d[:, seeds].min(1) < min_separation
        cost[too_close] = np.inf
        cand = int(np.argmin(cost))
        if not np.isfinite(cost[cand]) or cost[cand] >= nearest.sum():
            break
        seeds.append(cand)
        nearest = np.minimum(nearest, d[cand])
    return np.array(seeds), float(min_separation)


def log_joint(X, comps, log_pi):
    """``(N, K)`` log pi_k + log N(x | component k)."""
    return np.stack([lp + log_density(X, *c) for c, lp in zip(comps, log_pi)], axis=1)


def em_step(X, comps, log_pi, J):
    """One EM iteration; returns (components, log_pi, log-likelihood of the *input* parameters, responsibilities)."""
    lj = log_joint(X, comps, log_pi)
    ll_n = logsumexp(lj, axis=1)
    resp = np.exp(lj - ll_n[:, None])
    return m_step(X, resp, J) + (float(ll_n.sum()), resp)


def m_step(X, resp, J, min_weight=1e-6):
    nk = resp.sum(0)
    keep = nk > min_weight * len(X)
    comps = [ppca_fit(X, J, weights=resp[:, k]) for k in np.flatnonzero(keep)]
    log_pi = np.log(nk[keep] / nk[keep].sum())
    return comps, log_pi
