"""The lifter's profile cost near each grid angle as a power series in the angle offset.

For one per-joint weight row ``w`` and component ``k``, fixing the ground-plane angle ``theta`` leaves linear least
squares in ``x = (s, b)``: ``N(theta) x = U(theta) y`` with ``N = D' W D / nu + Lambda`` and ``U = D' W / nu``
(``D`` the weighted-centred design, :mod:`lifting.lift`). Its solution and profile cost are

    x(theta) = F(theta) y,  F = N^-1 U            (P, 2L)
    cost(theta) = y'Wy / nu - y' G(theta) y,  G = U' N^-1 U            (2L, 2L)

Both matrices are analytic in ``theta`` and do not depend on the frame. About every grid angle ``theta_a`` we
expand them in ``delta = theta - theta_a``: ``D`` is ``cos A + sin B + Y``, whose series is known; ``N``'s follows
by products; ``N^-1``'s by the recursion ``Q_0 = N_0^-1``, ``Q_j = -Q_0 sum_{i=1..j} N_i Q_{j-i}``; ``F`` and ``G``
by products again. The order is raised until the tail, at the bracket's edge ``|delta| = step`` (the last term with a
geometric remainder), is below ``tol`` of the leading term for every component and angle (about 13 for the shipped
model at 80 angles); where 20 orders do not reach it (few angles, very little 2D noise) :class:`SeriesDiverges` is
raised and the lifter solves frame by frame.

A frame then costs one packed outer product ``y y'`` (``T2 = 2L (2L + 1) / 2`` numbers), one small matrix product
per component for the cost's polynomial coefficients, and one more for the winner's solution: no factorisation per
frame. The zeroth terms at the grid angles give the grid search itself as one product with the packed outer
products (float32: it only ranks angles).
"""
from __future__ import annotations

from math import factorial
from typing import NamedTuple

import numpy as np

from .smoothing import angle_penalty_terms


class SeriesPattern(NamedTuple):
    """What :func:`build` precomputes for one weight row (K components, A grid angles, 2L coordinates, P unknowns,
    series of order ``order``); it acts on the 2D centred with that row's weights, unweighted."""
    grid: np.ndarray  # (T2, K * A) float32: y'G(theta_a)y = packed_outer(y) @ grid
    v0: np.ndarray  # (K, A): (N^-1)_00 at theta_a (the bound penalty's denominator)
    G: np.ndarray  # (K, A, T2, order + 1): y'G(theta_a + delta)y = sum_j (packed_outer(y) @ G[k, a])_j delta^j
    F: np.ndarray  # (K, A, 2L, P (order + 1)): the solution x_i(theta_a + delta) = sum_j (y @ F[k, a])[i, j] delta^j
    order: int
    nbytes: int

    @property
    def S(self):
        """``(K, A, 2L, order + 1)``: the scale ``s(theta_a + delta)`` the same way as G (x_0's columns of F)."""
        return self.F[..., :self.order + 1]

    @property
    def scale(self):
        """``(K, A, 2L)``: the scale at the grid angle ``theta_a`` is ``scale[k, a] @ y`` (the zeroth term of S)."""
        return self.S[..., 0]


def packed_index(n):
    """Rows and columns ``(T2,)`` of the upper triangle of an ``(n, n)`` matrix and the factor (1 on the diagonal, 2
    off it) that makes ``sum(packed(M) * packed_outer(y)) = y'My`` for symmetric ``M``."""
    i, j = np.triu_indices(n)
    return i, j, np.where(i == j, 1.0, 2.0)


def packed_outer(y, index):
    """``y_i y_j`` for the upper triangle: ``(m, T2)`` from ``y (m, n)``."""
    i, j, _ = index
    if len(y) <= 48:  # a few rows: two gathers (a row of the triangle a step costs more)
        return np.take(y, i, axis=1) * np.take(y, j, axis=1)
    n = y.shape[1]
    out = np.empty((len(y), len(i)), y.dtype)  # C order: rows are gathered later
    off = 0
    for r in range(n):  # row r of the upper triangle: y_r y_r..y_{n-1}
        np.multiply(y[:, r:r + 1], y[:, r:], out=out[:, off:off + n - r])
        off += n - r
    return out


class SeriesDiverges(ValueError):
    """The series does not converge fast enough within the bracket (the lifter then solves frame by frame)."""


def _remainder(terms, step):
    """Bound of the truncated tail relative to the leading term, every component and angle: the last term at
    ``|delta| = step`` times ``1 / (1 - r)``, ``r`` the ratio of the last two terms (geometric decay; 1 or more:
    infinite)."""
    size = [np.abs(t).max(axis=(-2, -1)) * step**i for i, t in enumerate(terms[-2:], len(terms) - 2)]
    r = size[1] / np.maximum(size[0], 1e-300)
    tail = np.where(r < 1, size[1] / np.maximum(1 - r, 1e-300), np.inf)
    return float((tail / np.abs(terms[0]).max(axis=(-2, -1))).max())


def build(parts, w, angles, nu, prior, step, tol=1e-13, max_order=20, order=None) -> SeriesPattern:
    """The series about every grid angle for weight row ``w (L,)``.

    Args:
        parts: ``(3, K, P, L, 2)`` the trigonometric parts (A, B, Y) of the projected shapes: the design at angle
            ``theta`` is ``cos A + sin B + Y`` (model order: the mean then the basis poses).
        angles: ``(A,)`` the grid. nu: ``(K,)`` 2D noise variances. prior: ``(K, P)`` prior precisions (0 for s).
        step: the largest ``|delta|`` the series must be exact for (the search's bracket).
        tol: bound of the truncated tail at ``|delta| = step`` relative to the leading term (every component and
            angle; the last term with a geometric remainder) that stops the order; :class:`SeriesDiverges` when
            ``max_order`` does not reach it.
        order: a fixed order instead (0: the grid alone).
    """
    w = np.asarray(w, np.float64)
    _, K, P, L, _ = parts.shape
    A = len(angles)
    w2 = np.repeat(w, 2)
    mean = np.einsum("l,tkplc->tkpc", w, parts) / w.sum()
    cen = (parts - mean[:, :, :, None]).reshape(3, K, P, 2 * L)  # weighted-centred D' parts, (3, K, P, 2L)
    inu = 1.0 / nu[:, None, None, None]

    def design(j):  # the j-th series term of D' about every angle: (K, A, P, 2L)
        c = np.cos(angles + j * np.pi / 2) / factorial(j)
        s = np.sin(angles + j * np.pi / 2) / factorial(j)
        d = c[None, :, None, None] * cen[0][:, None] + s[None, :, None, None] * cen[1][:, None]
        return d + cen[2][:, None] if j == 0 else d

    Dt, U, N, Q, Fs, Gs = [], [], [], [], [], []
    fixed = order
    for j in range((max_order if fixed is None else fixed) + 1):
        Dt.append(design(j))
        U.append(Dt[j] * w2 * inu)
        N.append(sum(U[i] @ np.swapaxes(Dt[j - i], -1, -2) for i in range(j + 1)))
        if j == 0:
            N[0] = N[0] + np.eye(P) * prior[:, None, None, :]
            Q.append(np.linalg.inv(N[0]))
        else:
            Q.append(-Q[0] @ sum(N[i] @ Q[j - i] for i in range(1, j + 1)))
        Fs.append(sum(Q[i] @ U[j - i] for i in range(j + 1)))
        Gs.append(sum(np.swapaxes(U[i], -1, -2) @ Fs[j - i] for i in range(j + 1)))
        order = j
        if fixed is None and j >= 3:
            if _remainder(Fs, step) < tol and _remainder(Gs, step) < tol:
                break
    else:
        if fixed is None:
            raise SeriesDiverges(f"the angle series did not reach {tol:g} within order {max_order} at offsets up to "
                                 f"{step:g} rad (too few angles, or too little 2D noise: the profile varies too fast)")
    i, jj, twice = packed_index(2 * L)
    G = np.stack([g[..., i, jj] * twice for g in Gs], axis=-1)  # (K, A, T2, order + 1)
    F = np.ascontiguousarray(np.stack(Fs, axis=-2).transpose(0, 1, 4, 2, 3).reshape(K, A, 2 * L, -1))
    grid = np.ascontiguousarray(G[..., 0].reshape(K * A, -1).T, dtype=np.float32)
    arrays = (grid, Q[0][..., 0, 0].copy(), np.ascontiguousarray(G), F)
    return SeriesPattern(*arrays, order=order, nbytes=sum(a.nbytes for a in arrays))


def minimise(coef, const, h, prior=None, dense=8, iters=60, tol=1e-12):
    """Minimum over ``|delta| <= h`` of ``f(delta) = const - sum_j coef[:, j] delta^j (+ prior)`` for every row.

    ``prior``: ``(theta_a (m,), previous (m,), weight)`` adds ``weight (1 - cos(theta_a + delta - previous))`` (0 where
    ``previous`` is NaN). The best of ``dense + 1`` evenly spaced points brackets the minimum between its neighbours;
    a safeguarded Newton iteration (bisection where a step would leave the bracket or the curvature is not positive)
    then finds it. Returns ``delta (m,)``, ``f (m,)`` and ``edge (m,)``: -1 or +1 where the best point is that end
    of ``[-h, h]`` (the minimum may lie beyond it), else 0.
    """
    coef = np.asarray(coef, np.float64)
    m, p1 = coef.shape
    j = np.arange(p1)
    grid = np.linspace(-h, h, dense + 1)
    fd = const[:, None] - coef @ powers(grid, p1 - 1).T
    if prior is not None:
        fd = fd + angle_penalty_terms(prior[0][:, None] + grid[None, :], prior[1][:, None], prior[2])[0]
    best = np.argmin(fd, axis=1)
    edge = np.where(best == 0, -1, np.where(best == dense, 1, 0))
    d = grid[best]
    lo = grid[np.maximum(best - 1, 0)]
    hi = grid[np.minimum(best + 1, dense)]
    c1 = np.ascontiguousarray(coef[:, 1:] * j[1:])  # derivative coefficients
    c2 = np.ascontiguousarray(c1[:, 1:] * j[1:-1])
    idx = np.arange(m)
    for _ in range(iters):
        da = d[idx]
        f1 = -evaluate(c1[idx], da)
        f2 = -evaluate(c2[idx], da)
        if prior is not None:
            _, p1d, p2d = angle_penalty_terms(prior[0][idx] + da, prior[1][idx], prior[2])
            f1, f2 = f1 + p1d, f2 + p2d
        la = np.where(f1 < 0, da, lo[idx])  # the minimum lies where f' changes sign from - to +
        ha = np.where(f1 > 0, da, hi[idx])
        newton = da - f1 / np.where(f2 > 0, f2, np.nan)
        ok = (f2 > 0) & (newton > la) & (newton < ha)
        dn = np.where(ok, newton, 0.5 * (la + ha))
        dn = np.where(f1 == 0, da, dn)
        lo[idx], hi[idx], d[idx] = la, ha, dn
        idx = idx[~((np.abs(dn - da) <= tol) | (ha - la <= tol))]
        if not len(idx):
            break
    f = const - evaluate(coef, d)
    if prior is not None:
        f = f + angle_penalty_terms(prior[0] + d, prior[1], prior[2])[0]
    start = fd[np.arange(m), best]
    worse = ~(f <= start)  # never return a point worse than the best sampled one
    d = np.where(worse, grid[best], d)
    f = np.where(worse, start, f)
    return d, f, edge


def powers(d, order):
    """``d^0 .. d^order``: ``(m, order + 1)`` for ``d (m,)``."""
    out = np.empty((len(d), order + 1))
    out[:, 0] = 1.0
    for j in range(1, order + 1):
        np.multiply(out[:, j - 1], d, out=out[:, j])
    return out


def evaluate(coef, d):
    """``sum_j coef[:, j] d^j`` for ``coef (m, p + 1)``, ``d (m,)``."""
    return np.einsum("mj,mj->m", coef, powers(d, coef.shape[1] - 1))
