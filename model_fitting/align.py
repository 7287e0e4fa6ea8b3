"""Ground-plane alignment of the training poses (paper sec. 4.1).

We minimise eq. (1) in its probabilistic form: the negative log-likelihood of the rotated-back poses
``q_i = R_i^T p_i`` under a PPCA model ``(mu, e, lambda, sigma^2)``,

    E = sum_i 1/2 [ (q_i - mu)^T C^-1 (q_i - mu) + ln|C| + D ln 2 pi ],   C = e diag(lambda) e^T + sigma^2 (I - e e^T)

whose per-sample Mahalanobis term equals ``min_a |q_i - mu - a.e|^2 / sigma^2 + sum_j a_j^2 / (lambda_j - sigma^2)``:
the data term and coefficient regulariser of eq. (1), with its log term the normaliser ``ln|C|``. We alternate the
closed-form PPCA update of (mu, e, lambda, sigma) (exact for fixed rotations) with per-sample rotation updates
(accepted only where they lower the sample's term), growing the basis from 1 to J. E therefore never increases.

Poses are ``(N, 17, 3)``, root-centred, y up, unit limb scale; internally the root joint is dropped (D = 48).
"""
from __future__ import annotations

import numpy as np

from lifting.geometry import rotate_ground

from .ppca import log_density, log_det, moments, ppca_from_moments


def to_vectors(poses):
    """``(N, 17, 3)`` -> ``(N, 48)`` (root dropped)."""
    return np.ascontiguousarray(np.asarray(poses, np.float64)[:, 1:].reshape(len(poses), -1))


def to_poses(vectors):
    """``(..., 48)`` -> ``(..., 17, 3)`` with the root at the origin."""
    v = np.asarray(vectors).reshape(*np.shape(vectors)[:-1], 16, 3)
    return np.concatenate([np.zeros(v.shape[:-2] + (1, 3)), v], axis=-2)


def rotate_back(P, theta):
    """``q = R(theta)^T p`` (eq. 2) for vectors ``P (N, 48)`` (x, y, z per joint) and angles ``(N,)``: a new array."""
    return rotate_ground(P.reshape(len(P), -1, 3), theta, inverse=True).reshape(P.shape)


def tomasi_kanade_mean(P):
    """Initial mean (sec. 4.1): y = per-joint mean; x, z from a rank-2 factorisation of the 2N x L matrix of
    interleaved x and z rows with every 2 x 2 block of the motion matrix replaced by its closest orthonormal matrix.
    Returns ``(mu (48,), theta (N,))`` where theta best rotates mu onto each pose."""
    N = len(P)
    x, y, z = P[:, 0::3], P[:, 1::3], P[:, 2::3]
    M = np.empty((2 * N, x.shape[1]))
    M[0::2], M[1::2] = x, z
    U, S, Vt = np.linalg.svd(M, full_matrices=False)
    A = (U[:, :2] * S[:2]).reshape(N, 2, 2)
    bu, _, bvt = np.linalg.svd(A)
    Ahat = bu @ bvt  # closest orthonormal 2 x 2 blocks
    xz = np.linalg.pinv(Ahat.reshape(2 * N, 2)) @ M  # (2, L)
    if np.mean(np.linalg.det(Ahat) < 0) > 0.5:  # factorisation chose the mirror image: undo it
        xz[0] *= -1
    mu = np.empty(P.shape[1])
    mu[0::3], mu[1::3], mu[2::3] = xz[0], y.mean(0), xz[1]
    return mu, best_rotation_to(P, mu)


def best_rotation_to(P, mu):
    """Angles maximising the alignment of ``R(theta) mu`` with each pose (least squares, closed form)."""
    px, pz = P[:, 0::3], P[:, 2::3]
    mx, mz = mu[0::3], mu[2::3]
    return np.arctan2(px @ mz - pz @ mx, px @ mx + pz @ mz)


def rotation_coefficients(P, mu, U, lam, s2):
    """Per-sample coefficients ``(g11, g22, g12, g13, g23, g33)`` of the Mahalanobis term of ``R(theta)^T p - mu``:
    ``f(theta) = g11 c^2 + g22 s^2 + 2 g12 c s + 2 g13 c + 2 g23 s + g33`` (c, s = cos, sin theta), ``(N, 6)``.

    With ``A = (px, 0, pz)``, ``B = (-pz, 0, px)``, ``r0 = (0, py, 0) - mu`` per joint, ``R^T p - mu = c A + s B + r0``
    and ``f = v^T G v`` for ``v = (c, s, 1)``, ``G = V^T C^-1 V``; computed without forming V."""
    px, py, pz = P[:, 0::3], P[:, 1::3], P[:, 2::3]
    mx, my, mz = mu[0::3], mu[1::3], mu[2::3]
    Ux, Uy, Uz = U[0::3], U[1::3], U[2::3]
    d = 1.0 / s2 - 1.0 / lam  # (J,)
    aa = np.einsum("nl,nl->n", px, px) + np.einsum("nl,nl->n", pz, pz)  # = B.B ; A.B = 0
    ry = py - my
    ac = -(px @ mx + pz @ mz)
    bc = pz @ mx - px @ mz
    cc = np.einsum("nl,nl->n", ry, ry) + (mx @ mx + mz @ mz)
    ua = px @ Ux + pz @ Uz  # U^T A  (N, J)
    ub = px @ Uz - pz @ Ux  # U^T B
    uc = ry @ Uy - (mx @ Ux + mz @ Uz)  # U^T r0
    g11 = aa / s2 - (ua * ua) @ d
    g22 = aa / s2 - (ub * ub) @ d
    g12 = -(ua * ub) @ d
    g13 = ac / s2 - (ua * uc) @ d
    g23 = bc / s2 - (ub * uc) @ d
    g33 = cc / s2 - (uc * uc) @ d
    return np.stack([g11, g22, g12, g13, g23, g33], 1)


def _f(g, th):
    c, s = np.cos(th), np.sin(th)
    return g[:, 0] * c * c + g[:, 1] * s * s + 2 * g[:, 2] * c * s + 2 * g[:, 3] * c + 2 * g[:, 4] * s + g[:, 5]


def update_rotations_closed_form(P, theta, mu, U, lam, s2, grid=32, newton=6, chunk=131072):
    """Globally minimise each sample's term over theta: a degree-2 trigonometric polynomial, evaluated on a grid
    and polished by Newton steps. A new angle is kept only where it lowers the term.

    Returns ``(theta (N,), terms (N,))``: the new angles and each sample's Mahalanobis term at them."""
    theta = theta.copy()
    terms = np.empty(len(P))
    g_ = 2 * np.pi * np.arange(grid) / grid
    basis = np.stack([np.cos(g_) ** 2, np.sin(g_) ** 2, 2 * np.cos(g_) * np.sin(g_), 2 * np.cos(g_), 2 * np.sin(g_),
                      np.ones(grid)])  # (6, grid)
    for a in range(0, len(P), chunk):
        coef = rotation_coefficients(P[a:a + chunk], mu, U, lam, s2)
        th = g_[np.argmin(coef @ basis, axis=1)]
        g11, g22, g12, g13, g23 = coef[:, 0], coef[:, 1], coef[:, 2], coef[:, 3], coef[:, 4]
        for _ in range(newton):
            c, s = np.cos(th), np.sin(th)
            d1 = 2 * (g22 - g11) * c * s + 2 * g12 * (c * c - s * s) - 2 * g13 * s + 2 * g23 * c
            d2 = 2 * (g22 - g11) * (c * c - s * s) - 8 * g12 * c * s - 2 * g13 * c - 2 * g23 * s
            step = np.where(d2 > 0, d1 / np.where(d2 > 0, d2, 1.0), 0.0)
            th = th - np.clip(step, -0.2, 0.2)
        old = theta[a:a + chunk]
        f_new, f_old = _f(coef, th), _f(coef, old)
        better = f_new < f_old
        theta[a:a + chunk] = np.where(better, np.mod(th, 2 * np.pi), old)
        terms[a:a + chunk] = np.where(better, f_new, f_old)
    return theta, terms


def update_rotations_ceres(P, theta, mu, U, lam, s2, max_iterations=50):
    """The paper's way: Ceres (through pyceres) minimises each sample's whitened residual over its angle,
    starting from the current angle (a local method). A new angle is kept only where it lowers the term.

    Returns ``(theta, terms)`` like :func:`update_rotations_closed_form`."""
    import pyceres

    lam_w = 1.0 / np.sqrt(lam)
    inv_s = 1.0 / np.sqrt(s2)

    def whiten(r):
        # W r with W^T W = C^-1: W = U diag(1/sqrt(lam)) U^T + (I - U U^T) / s
        p = r @ U
        return (r - p @ U.T) * inv_s + (p * lam_w) @ U.T

    class RotationCost(pyceres.CostFunction):
        def __init__(self, p):
            super().__init__()
            self.p = p
            self.set_num_residuals(len(p))
            self.set_parameter_block_sizes([1])

        def Evaluate(self, parameters, residuals, jacobians):
            th = parameters[0][0]
            q = rotate_ground(self.p.reshape(-1, 3), th, inverse=True).reshape(-1)
            residuals[:] = whiten(q - mu)
            if jacobians is not None and jacobians[0] is not None:  # d(R^T p)/d theta
                c, s = np.cos(th), np.sin(th)
                x, z = self.p[0::3], self.p[2::3]
                dq = np.zeros_like(self.p)
                dq[0::3], dq[2::3] = -s * x - c * z, c * x - s * z
                jacobians[0][:] = whiten(dq)
            return True

    problem = pyceres.Problem()
    params = [np.array([t], dtype=np.float64) for t in theta]
    costs = [RotationCost(p) for p in P]  # kept alive while the problem lives
    for cost, x in zip(costs, params):
        problem.add_residual_block(cost, None, [x])
    options = pyceres.SolverOptions()
    options.linear_solver_type = pyceres.LinearSolverType.DENSE_SCHUR
    options.max_num_iterations = max_iterations
    options.function_tolerance = 1e-14
    options.gradient_tolerance = 1e-14
    options.parameter_tolerance = 1e-14
    options.minimizer_progress_to_stdout = False
    options.num_threads = 1
    summary = pyceres.SolverSummary()
    pyceres.solve(options, problem, summary)
    new = np.array([x[0] for x in params])
    coef = rotation_coefficients(P, mu, U, lam, s2)
    f_new, f_old = _f(coef, new), _f(coef, theta)
    better = f_new < f_old
    return np.where(better, np.mod(new, 2 * np.pi), theta), np.where(better, f_new, f_old)


ROTATION_SOLVERS = {"closed-form": update_rotations_closed_form, "ceres": update_rotations_ceres}


def objective_from_terms(terms, U, lam, s2):
    """Eq. (1) from the per-sample Mahalanobis terms: ``1/2 sum terms + N/2 (ln|C| + D ln 2 pi)``."""
    D = U.shape[0]
    return float(0.5 * np.sum(terms) + 0.5 * len(terms) * (log_det(U, lam, s2) + D * np.log(2 * np.pi)))


def objective_after_ppca(n, cov, U, lam, s2):
    """Eq. (1) right after the PPCA update, from the covariance alone (exact):
    ``N/2 (ln|C| + tr(C^-1 S) + D ln 2 pi)`` with ``tr(C^-1 S) = tr(S)/s2 - sum_j (1/s2 - 1/lam_j) u_j^T S u_j``."""
    D = U.shape[0]
    tr = np.trace(cov) / s2 - np.sum((1.0 / s2 - 1.0 / lam) * np.einsum("dj,de,ej->j", U, cov, U))
    return float(0.5 * n * (log_det(U, lam, s2) + tr + D * np.log(2 * np.pi)))


def objective(P, theta, mu, U, lam, s2):
    """Eq. (1) in probabilistic form: total negative log-likelihood of the rotated-back poses (see module doc)."""
    return float(-np.sum(log_density(rotate_back(P, theta), mu, U, lam, s2)))


def ppca_step(P, theta, J, return_cov=False):
    """Closed-form PPCA of the rotated-back poses (and, optionally, their covariance)."""
    mu, cov = moments(rotate_back(P, theta), overwrite=True)  # rotate_back returns a fresh array
    out = ppca_from_moments(mu, cov, J)
    return (out, cov) if return_cov else out
