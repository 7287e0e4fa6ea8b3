"""Lifting 2D joints to 3D with a mixture of PPCA models (paper sec. 5.3, eqs. 5 and 6).

For a component with mean ``mu`` and basis ``e`` (model units), camera rotation ``E`` and ground-plane rotation
``R(theta)`` (eq. 2), the 2D pose ``Y (17, 2)`` is explained by the weak-perspective projection

    Y ~= s * Pi E R(theta) (mu + a . e) + t                                            (eq. 6)

and we minimise, as in eq. (5) with the footnote's reparameterisation ``b = s a``,

    cost(theta, s, b, t) = sum_l w_l |Y_l - (s Pi E R mu + Pi E R b . e)_l - t|^2 / nu  +  sum_j b_j^2 / lambda_j

where ``w`` are per-joint weights (0 = missing), ``lambda`` the component's prior variances and ``nu`` the 2D noise
variance (default: the component's noise variance, as in the authors' code). For a fixed angle this is linear
least squares in (s, b, t); the translation is eliminated exactly by weighted centring. We solve it for every
quantised angle, keep the best, and optionally refine the angle (with s, b, t re-solved) by a bracketed
1D search that never increases the cost. Only solutions with s > 0 are admitted.

Scale: the 2D input is first centred and divided by its weighted RMS spread, then multiplied by the RMS spread of
the model's projected mean, so that s ~ 1 and b ~ a in model units whatever the pixel size of the input; the
result does not depend on the translation or scale of the input.

Mixtures: every component is solved; the most probable is kept, by the negative log posterior
``cost/2 + 1/2 sum_j log lambda_j + (observed coords)/2 log nu - log pi_k``.
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from . import skeleton
from .geometry import UPRIGHT_CAMERA, project, rotate_ground
from .model import PoseModel

#: defaults chosen by measurement on held-out training data (scripts/model_selection.py, results/model_selection.md)
DEFAULT_NOISE_2D = 0.08
DEFAULT_SCALE_BOUNDS = (0.6, 2.0)

STATUS_OK = 0
STATUS_NONFINITE = 1
STATUS_TOO_FEW_JOINTS = 2
STATUS_DEGENERATE = 3
STATUS_NO_SOLUTION = 4
STATUS_IMPLAUSIBLE = 5
STATUS_NAMES = {
    STATUS_OK: "ok",
    STATUS_NONFINITE: "non-finite coordinates on a visible joint",
    STATUS_TOO_FEW_JOINTS: "fewer visible joints than min_visible",
    STATUS_DEGENERATE: "all visible points identical",
    STATUS_NO_SOLUTION: "no solution with positive scale",
    STATUS_IMPLAUSIBLE: "3D limb scale outside limb_scale_range (the 2D is not explained by a plausible pose)",
}


@dataclass
class LiftResult:
    """Per-frame results of :meth:`Lifter.lift` (N frames, 17 joints, J basis poses).

    pose3d: ``(N, 17, 3)`` model units, world frame (y up, root at origin, ground-plane rotation applied);
    pose3d_mm: the same in millimetres; pose3d_camera_mm: ``E @ pose3d_mm`` (camera axes);
    angle: ``(N,)`` radians; scale: ``(N,)`` (pixels per model unit); scale_relative: ``(N,)`` the same relative to
    the scale that maps the model's mean onto the input's 2D size (the quantity ``scale_bounds`` bounds);
    scale_at_bound: ``(N,)`` bool, the optimum lies on a bound (the 2D is hard to explain at a plausible scale);
    coefficients ``a``: ``(N, J)``;
    component: ``(N,)``; residual: ``(N,)`` weighted squared 2D error in pixels^2; cost: ``(N,)`` value of the
    objective (normalised units); reprojected: ``(N, 17, 2)`` eq. 6 in input pixels; status: ``(N,)`` codes
    (``STATUS_NAMES``). Frames whose status is not ok hold NaN.
    """

    pose3d: np.ndarray
    pose3d_mm: np.ndarray
    pose3d_camera_mm: np.ndarray
    angle: np.ndarray
    scale: np.ndarray
    coefficients: np.ndarray
    component: np.ndarray
    residual: np.ndarray
    cost: np.ndarray
    reprojected: np.ndarray
    status: np.ndarray
    scale_relative: np.ndarray
    scale_at_bound: np.ndarray

    def __len__(self):
        return len(self.status)


class Lifter:
    """Vectorised lifting with a :class:`PoseModel`.

    Args:
        model: the pose model (K components, J basis poses).
        camera: ``(3, 3)`` rotation E from world to camera axes; default :data:`UPRIGHT_CAMERA`.
        num_angles: quantisation of the ground-plane rotation (80 in the paper; 10,000 = exhaustive reference).
        refine: refine the best angle (and s, b, t) by a bracketed 1D search; never increases the cost.
        noise_2d: standard deviation of the 2D noise as a fraction of the person's 2D size (the RMS distance of the
            visible joints from their centroid; 20 mm of noise on a standing adult is about 0.05). It sets how much
            the prior is trusted over the 2D input. None = each component's own residual variance (the authors'
            choice, right for exact projections).
        scale_bounds: ``(lo, hi)`` admissible range of the projection scale ``s``, relative to the scale that maps
            the model's mean pose onto the 2D input's size. The prior on ``b = s a`` only bounds the pose while
            ``s`` is not small; ``s`` is optimised inside the bounds (exactly: a quadratic with one bounded
            variable), so the 3D pose stays bounded by construction.
        limb_scale_range: ``(lo, hi)``: a frame whose 3D pose has a limb scale (RMS limb length,
            :func:`lifting.skeleton.limb_scale`) outside this range of the model's (1 in model units) gets
            ``STATUS_IMPLAUSIBLE`` and NaN outputs: its 2D (upside-down, lying, or not a person) has no plausible
            explanation by the model.
        min_visible: frames with fewer joints of positive weight get STATUS_TOO_FEW_JOINTS.
        grid_dtype: precision of the angle search; the winners are always re-solved in float64. "auto" is float32
            (2x faster) up to 720 angles and float64 above, where neighbouring angles differ in cost by less than
            float32 resolves (the exhaustive reference).
        chunk_elements: elements of the batched matmul's output per chunk (keep it cache-sized).
    """

    def __init__(self, model: PoseModel, camera=None, num_angles=80, refine=False, noise_2d=DEFAULT_NOISE_2D,
                 scale_bounds=DEFAULT_SCALE_BOUNDS, limb_scale_range=(0.5, 2.0), min_visible=5, grid_dtype="auto", chunk_elements=1 << 18, cache_size=256):
        if not isinstance(model, PoseModel):
            raise TypeError(f"model must be a PoseModel, got {type(model).__name__}")
        camera = UPRIGHT_CAMERA if camera is None else np.asarray(camera, np.float64)
        if camera.shape != (3, 3) or not np.all(np.isfinite(camera)):
            raise ValueError(f"camera must be a finite (3, 3) rotation matrix, got shape {camera.shape}")
        if np.abs(camera @ camera.T - np.eye(3)).max() > 1e-6 or np.linalg.det(camera) < 0:
            raise ValueError("camera must be a rotation matrix (orthonormal, det +1)")
        if int(num_angles) < 3:
            raise ValueError(f"num_angles must be >= 3, got {num_angles}")
        self.model = model
        self.camera = camera
        self.num_angles = int(num_angles)
        self.refine = bool(refine)
        self.min_visible = int(min_visible)
        self.chunk_elements = int(chunk_elements)
        if isinstance(grid_dtype, str) and grid_dtype == "auto":
            grid_dtype = np.float32 if self.num_angles <= 720 else np.float64
        self.grid_dtype = np.dtype(grid_dtype)
        self.refine_chunk = 4096
        self.angles = 2 * np.pi * np.arange(self.num_angles) / self.num_angles
        K, Jb = model.num_components, model.num_basis
        L = skeleton.NUM_JOINTS
        self.P = Jb + 1  # unknowns after eliminating translation: s, b_1..b_J
        lo, hi = (float(v) for v in scale_bounds)
        if not (0 < lo < 1 < hi < np.inf):
            raise ValueError(f"scale_bounds must satisfy 0 < lo < 1 < hi < inf, got {scale_bounds}")
        self.scale_bounds = (lo, hi)
        llo, lhi = (float(v) for v in limb_scale_range)
        if not (0 <= llo < 1 < lhi):
            raise ValueError(f"limb_scale_range must satisfy 0 <= lo < 1 < hi, got {limb_scale_range}")
        self.limb_scale_range = (llo, lhi)
        if noise_2d is not None and not (np.isfinite(noise_2d) and 0 < noise_2d <= 1):
            raise ValueError(f"noise_2d must be in (0, 1] (a fraction of the person's 2D size), got {noise_2d}")
        self.noise_2d = noise_2d
        # shapes (K, P, L, 3): the mean then the basis poses
        self.shapes = np.concatenate([model.mean[:, None], model.basis], axis=1)
        # Decompose Pi E R(theta) X = cos * (Pi E Rc X) + sin * (Pi E Rs X) + Pi E Ry X   -> (3, K, P, L, 2)
        Rc = np.diag([1.0, 0, 1.0])
        Rs = np.array([[0, 0, 1.0], [0, 0, 0], [-1.0, 0, 0]])
        Ry = np.diag([0, 1.0, 0])
        self.trig_parts = np.stack([self.shapes @ (camera @ R).T[:, :2] for R in (Rc, Rs, Ry)])
        # design matrices for every angle: (K, A, 2L, P) with rows joint-major (l, coord)
        c, s = np.cos(self.angles), np.sin(self.angles)
        proj = (c[None, :, None, None, None] * self.trig_parts[0][:, None]
                + s[None, :, None, None, None] * self.trig_parts[1][:, None]
                + self.trig_parts[2][:, None])  # (K, A, P, L, 2)
        self.design = np.ascontiguousarray(proj.reshape(K, self.num_angles, self.P, 2 * L).transpose(0, 1, 3, 2))
        # prior precision on (s, b): s is not regularised
        self.prior = np.zeros((K, self.P))
        self.prior[:, 1:] = 1.0 / model.variances
        # normalisation target: RMS spread of the projected mean, averaged over angles and components
        pm = proj[:, :, 0]  # (K, A, L, 2)
        spread = np.sqrt(np.mean(np.sum((pm - pm.mean(2, keepdims=True)) ** 2, -1), axis=2))  # (K, A)
        self.target_spread = float(np.sum(model.weights * spread.mean(1)))
        # 2D noise variance in normalised units (where the input's RMS spread is target_spread)
        self.nu = model.noise_variance.copy() if noise_2d is None else np.full(K, (noise_2d * self.target_spread) ** 2)
        self.log_prior_det = 0.5 * np.sum(np.log(model.variances), axis=1) - np.log(model.weights)  # (K,)
        # limb scale^2 of mean + a.e as a quadratic form in a: c0 + 2 a.c1 + a' C2 a (per component)
        child, parent = (np.array(v) for v in zip(*skeleton.LIMBS))
        lm = model.mean[:, child] - model.mean[:, parent]  # (K, 16, 3)
        le = model.basis[:, :, child] - model.basis[:, :, parent]  # (K, J, 16, 3)
        self._limb_quad = (np.einsum("klc,klc->k", lm, lm), np.einsum("kjlc,klc->kj", le, lm),
                           np.einsum("kilc,kjlc->kij", le, le))
        self._cache = OrderedDict()
        self._prior_angle = None  # set per call of lift() (angle_prior)
        self._cache_size = int(cache_size)

    # ---- per weight-pattern precomputation ---------------------------------------------------------------
    def _pattern(self, w):
        """Precompute, for per-joint weights ``w (17,)``, the matrices of every (component, angle)."""
        key = w.tobytes()
        hit = self._cache.get(key)
        if hit is not None:
            self._cache.move_to_end(key)
            return hit
        K, A, P = self.model.num_components, self.num_angles, self.P
        w2 = np.repeat(w, 2)  # (2L,)
        sw = np.sqrt(w2)
        D = self.design
        # weighted centring per coordinate (eliminates the free translation exactly)
        Dr = D.reshape(K, A, -1, 2, P)
        mean = np.einsum("l,kalcp->kacp", w, Dr) / w.sum()
        Dc = (Dr - mean[:, :, None]).reshape(K, A, -1, P) * sw[None, None, :, None]  # (K, A, 2L, P)
        N = np.einsum("kari,karj->kaij", Dc, Dc) / self.nu[:, None, None, None]
        N += np.eye(P) * self.prior[:, None, None, :]
        Lc = np.linalg.cholesky(N)
        Linv = np.linalg.inv(Lc)  # (K, A, P, P) lower triangular
        C = np.einsum("kaij,karj->kair", Linv, Dc) / self.nu[:, None, None, None]  # (K, A, P, 2L)
        # row 0 of N^-1 D^T / nu gives s directly: s = (Linv^T z)[0]
        g0 = np.einsum("kai,kair->kar", Linv[:, :, :, 0], C)  # (K, A, 2L)
        M = np.concatenate([C, g0[:, :, None]], axis=2) * sw  # act on centred, unweighted y
        M = np.ascontiguousarray(M)
        # (N^-1)_00 and N^-1 e_0: the cost and solution of the problem with s held at a bound (see _bound)
        col0 = Linv[:, :, :, 0]  # (K, A, P): L^-1 e_0
        v0 = np.einsum("kai,kai->ka", col0, col0)
        ninv_e0 = np.einsum("kaji,kaj->kai", Linv, col0)
        entry = {"M": M, "Mg": M.reshape(K * A * (P + 1), -1).astype(self.grid_dtype, copy=False),
                 "LinvT": Linv.transpose(0, 1, 3, 2).copy(), "w2": w2, "v0": v0, "ninv_e0": ninv_e0,
                 "v0g": v0.astype(self.grid_dtype)}
        self._cache[key] = entry
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return entry

    # ---- public API -----------------------------------------------------------------------------------------
    def lift(self, points2d, weights=None, strict=False, angle_prior=None) -> LiftResult:
        """Lift 2D poses.

        Args:
            points2d: ``(N, 17, 2)`` (or ``(17, 2)``) image coordinates, H36M joint order (x right, y down with
                the default camera). NaN marks a missing joint.
            weights: ``(N, 17)`` (or ``(17,)``) non-negative per-joint weights; 0 = missing. Default: 1 where
                the coordinates are finite. Frames are grouped by identical weight rows and the matrices of every
                group are computed once (and cached), so 0/1 visibility costs nothing extra; continuous weights
                with many distinct rows cost one such computation (a few ms) per distinct row.
            strict: raise ValueError on the first bad frame instead of reporting it in ``status``.
            angle_prior: ``(previous (N,), weight)``: adds ``weight (1 - cos(theta - previous))`` (normalised cost
                units) to every frame's cost, so that a video's ground-plane angle stays near the previous frame's
                where the 2D allows both (:mod:`lifting.smoothing`); NaN in ``previous`` = no prior for that frame.
        """
        pts = np.asarray(points2d, dtype=np.float64)
        single = pts.ndim == 2
        if single:
            pts = pts[None]
        L = skeleton.NUM_JOINTS
        if pts.ndim != 3 or pts.shape[1:] != (L, 2):
            raise ValueError(f"points2d must have shape (N, {L}, 2) or ({L}, 2), got {np.shape(points2d)}")
        n = pts.shape[0]
        finite = np.isfinite(pts).all(-1)
        if weights is None:
            w = finite.astype(np.float64)
        else:
            w = np.asarray(weights, dtype=np.float64)
            if single and w.ndim == 1:
                w = w[None]
            if w.shape != (n, L):
                raise ValueError(f"weights must have shape ({n}, {L}), got {np.shape(weights)}")
            if np.any(~np.isfinite(w)) or np.any(w < 0):
                raise ValueError("weights must be finite and >= 0")
        status = np.zeros(n, np.int64)
        status[np.any((w > 0) & ~finite, axis=1)] = STATUS_NONFINITE
        w = np.where(finite, w, 0.0)
        nvis = np.count_nonzero(w > 0, axis=1)
        status[(status == 0) & (nvis < self.min_visible)] = STATUS_TOO_FEW_JOINTS
        y = np.where(finite[..., None], pts, 0.0)
        wsum = np.maximum(w.sum(1), 1e-300)
        centre = np.einsum("nl,nlc->nc", w, y) / wsum[:, None]
        yc = (y - centre[:, None]) * (w[..., None] > 0)
        spread = np.sqrt(np.einsum("nl,nlc->n", w, yc**2) / wsum)
        status[(status == 0) & ~(spread > 1e-12 * (1 + np.abs(centre).max(1)))] = STATUS_DEGENERATE
        ok = status == 0
        factor = np.where(ok, self.target_spread / np.where(spread > 0, spread, 1.0), 0.0)
        yn = yc * factor[:, None, None]  # normalised, centred
        Jb = self.model.num_basis

        res = dict(angle=np.full(n, np.nan), sn=np.full(n, np.nan), b=np.full((n, Jb), np.nan),
                   comp=np.full(n, -1, np.int64), cost=np.full(n, np.nan))
        self._prior_angle = None
        if angle_prior is not None:
            prev, weight = angle_prior
            prev = np.broadcast_to(np.asarray(prev, np.float64), (n,))
            if not (np.isfinite(weight) and weight >= 0):
                raise ValueError(f"angle_prior weight must be finite and >= 0, got {weight}")
            self._prior_angle = (prev, float(weight))
        idx_ok = np.flatnonzero(ok)
        if idx_ok.size:
            for pattern, sel in group_rows(w[idx_ok]):
                sel = idx_ok[sel]
                self._solve_pattern(pattern, yn[sel].reshape(len(sel), -1), sel, res)
        status[ok & ~np.isfinite(res["cost"])] = STATUS_NO_SOLUTION
        if strict and np.any(status != 0):
            bad = np.flatnonzero(status != 0)
            msgs = [f"frame {i}: {STATUS_NAMES[status[i]]}" for i in bad[:10]]
            raise ValueError(f"{bad.size} of {n} frames cannot be lifted: " + "; ".join(msgs))
        return self._assemble(res, status, w, y, centre, factor)

    def _solve_pattern(self, w, ys, sel, res):
        """Grid search (and refinement) for frames ``sel`` sharing weights ``w``; ``ys (n, 2L)`` centred.

        The search over angles runs in ``grid_dtype`` (float32 by default: it only ranks angles); the cost and the
        solution at each component's best angle are then recomputed in float64.
        """
        pat = self._pattern(w)
        K, A, P = self.model.num_components, self.num_angles, self.P
        rows = K * A * (P + 1)
        chunk = max(1, self.chunk_elements // rows)
        nu = self.nu
        Mg = pat["Mg"]
        nobs = 2 * np.count_nonzero(w > 0)
        logdet = self.log_prior_det[:, None] + 0.5 * nobs * np.log(nu)[:, None]
        for start in range(0, len(sel), chunk):
            y = ys[start:start + chunk]
            m = len(y)
            yy = np.einsum("nr,nr,r->n", y, y, pat["w2"])
            Z = (Mg @ y.T.astype(Mg.dtype, copy=False)).reshape(K, A, P + 1, m)
            cost = yy[None, None] / nu[:, None, None] - np.einsum("kapn,kapn->kan", Z[:, :, :P], Z[:, :, :P])
            prior = self._angle_cost(self.angles[:, None], sel[start:start + chunk])  # (A, m) or 0
            cost = cost + prior
            best_a = np.argmin(cost, axis=1)  # (K, m)
            # The bound's penalty is >= 0 and 0 inside the bounds: where the unpenalised winner's scale is inside,
            # it also wins the penalised search. Only the other (component, frame) pairs are searched again.
            s_best = np.take_along_axis(Z[:, :, P], best_a[:, None], 1)[:, 0]  # (K, m)
            kb, nb = np.nonzero((s_best < self.scale_bounds[0]) | (s_best > self.scale_bounds[1]))
            if kb.size:
                pen = self._bound_penalty(Z[kb, :, P, nb], pat["v0g"][kb])  # (bad, A)
                best_a[kb, nb] = np.argmin(cost[kb, :, nb] + pen, axis=1)
            # exact (float64) cost and solution at every component's best angle
            kk = np.arange(K)[:, None]
            Mk = pat["M"][kk, best_a]  # (K, m, P+1, 2L)
            z = np.einsum("kmpr,mr->kmp", Mk, y)
            best_cost = yy[None] / nu[:, None] - np.einsum("kmp,kmp->km", z[..., :P], z[..., :P])
            v0 = pat["v0"][kk, best_a]
            best_cost += self._bound_penalty(z[..., P], v0)
            best_cost += self._angle_cost(self.angles[best_a], sel[start:start + chunk][None])
            score = 0.5 * best_cost + logdet
            k = np.argmin(score, axis=0)
            cols = np.arange(m)
            a_i = best_a[k, cols]
            x = np.einsum("nij,nj->ni", pat["LinvT"][k, a_i], z[k, cols, :P])
            x = self._bound_solution(x, pat["ninv_e0"][k, a_i], v0[k, cols])
            out = sel[start:start + chunk]
            res["angle"][out] = self.angles[a_i]
            res["sn"][out] = x[:, 0]
            res["b"][out] = x[:, 1:]
            res["comp"][out] = k
            res["cost"][out] = best_cost[k, cols]
        if self.refine:
            for start in range(0, len(sel), self.refine_chunk):
                out = sel[start:start + self.refine_chunk]
                x = np.concatenate([res["sn"][out, None], res["b"][out]], axis=1)
                theta, x, c = self._refine(w, ys[start:start + self.refine_chunk], res["comp"][out],
                                           res["angle"][out], x, res["cost"][out], out)
                res["angle"][out] = np.mod(theta, 2 * np.pi)
                res["sn"][out] = x[:, 0]
                res["b"][out] = x[:, 1:]
                res["cost"][out] = c

    def _angle_cost(self, theta, frames):
        """The angle prior's cost of angles ``theta`` for frames ``frames`` (broadcast); 0 without a prior."""
        if self._prior_angle is None:
            return 0.0
        prev, weight = self._prior_angle
        d = theta - prev[frames]
        return np.where(np.isfinite(d), weight * (1.0 - np.cos(np.nan_to_num(d))), 0.0)

    # ---- the scale bound ------------------------------------------------------------------------------------------
    def _bound_penalty(self, s, v0):
        """Extra cost of holding the scale at the nearest bound: ``(clip(s) - s)^2 / (N^-1)_00`` (0 inside)."""
        lo, hi = self.scale_bounds
        d = np.clip(s, lo, hi) - s
        return d * d / v0

    def _bound_solution(self, x, ninv_e0, v0):
        """Minimiser with ``x_0`` clipped into the bounds: ``x + (clip(s) - s) N^-1 e_0 / (N^-1)_00``; ``(n, P)``."""
        lo, hi = self.scale_bounds
        d = np.clip(x[:, 0], lo, hi) - x[:, 0]
        return x + (d / v0)[:, None] * ninv_e0

    # ---- refinement ------------------------------------------------------------------------------------------
    def _profile(self, k, theta, quad, lin, yy):
        """Cost and solution of the linear problem at per-frame angles ``theta (m,)``.

        ``quad (K, 6, P, P)`` and ``lin (m, 3, P)`` are the pieces of the normal equations in the trigonometric
        decomposition ``D(theta) = cos A + sin B + Y`` (see :meth:`_refine`)."""
        c, s = np.cos(theta), np.sin(theta)
        coef = np.stack([c * c, s * s, c * s, c, s, np.ones_like(c)], 1)  # (m, 6)
        nu = self.nu[k]
        P = self.P
        N = np.empty((len(theta), P, P))
        for comp in np.unique(k):  # one small matrix product per component, no per-frame gather
            sel = np.flatnonzero(k == comp)
            N[sel] = (coef[sel] @ quad[comp].reshape(6, P * P)).reshape(-1, P, P)
        N /= nu[:, None, None]
        diag = np.arange(P)
        N[:, diag, diag] += self.prior[k]
        u = np.einsum("mt,mti->mi", coef[:, 3:], lin) / nu[:, None]
        rhs = np.zeros((len(theta), P, 2))
        rhs[:, :, 0] = u
        rhs[:, 0, 1] = 1.0
        sol = np.linalg.solve(N, rhs)
        x, ninv_e0 = sol[..., 0], sol[..., 1]
        cost = yy / nu - np.einsum("ni,ni->n", u, x)
        v0 = ninv_e0[:, 0]
        cost = cost + self._bound_penalty(x[:, 0], v0)
        return cost, self._bound_solution(x, ninv_e0, v0)

    def _refine(self, w, y, k, theta, x, cost, frames=None, iters=45, tol=1e-10):
        """Golden-section search of the profile cost on [theta - step, theta + step] (the grid step); the best point
        seen is kept, so the cost never increases."""
        sw = np.sqrt(np.repeat(w, 2))
        A, B, Y = (((part - np.einsum("l,kplc->kpc", w, part)[:, :, None] / w.sum())
                    .reshape(part.shape[0], self.P, -1) * sw) for part in self.trig_parts)  # (K, P, 2L) each
        # N(theta) nu = c^2 A'A + s^2 B'B + cs (A'B + B'A) + c (A'Y + Y'A) + s (B'Y + Y'B) + Y'Y
        AB, AY, BY = (np.einsum("kir,kjr->kij", U, V) for U, V in ((A, B), (A, Y), (B, Y)))
        sym = lambda M: M + M.transpose(0, 2, 1)  # noqa: E731
        quad = np.stack([np.einsum("kir,kjr->kij", A, A), np.einsum("kir,kjr->kij", B, B), sym(AB), sym(AY), sym(BY),
                         np.einsum("kir,kjr->kij", Y, Y)], axis=1)  # (K, 6, P, P)
        ysw = y * sw  # y is centred with the same weights
        lin = np.stack([np.einsum("mir,mr->mi", M[k], ysw) for M in (A, B, Y)], axis=1)  # (m, 3, P)
        yy = np.einsum("mr,mr->m", ysw, ysw)

        def profile(t):
            c, sol = self._profile(k, t, quad, lin, yy)
            return (c if frames is None else c + self._angle_cost(t, frames)), sol

        step = 2 * np.pi / self.num_angles
        a, b = theta - step, theta + step
        gr = (np.sqrt(5) - 1) / 2
        best_t, best_c, best_x = theta.copy(), cost.copy(), x.copy()
        x1 = b - gr * (b - a)
        x2 = a + gr * (b - a)
        f1, s1 = profile(x1)
        f2, s2 = profile(x2)
        for _ in range(iters):
            left = f1 < f2  # minimum in [a, x2]
            for fv, sv, tv in ((f1, s1, x1), (f2, s2, x2)):
                better = fv < best_c
                best_c = np.where(better, fv, best_c)
                best_t = np.where(better, tv, best_t)
                best_x = np.where(better[:, None], sv, best_x)
            if np.all(b - a < tol):
                break
            b = np.where(left, x2, b)
            a = np.where(left, a, x1)
            nx1 = np.where(left, b - gr * (b - a), x2)
            nx2 = np.where(left, x1, a + gr * (b - a))
            nf1 = np.where(left, np.nan, f2)
            nf2 = np.where(left, f1, np.nan)
            # evaluate the one new point per frame
            newt = np.where(left, nx1, nx2)
            fn, sn = profile(newt)
            f1 = np.where(left, fn, nf1)
            f2 = np.where(left, nf2, fn)
            s1n = np.where(left[:, None], sn, s2)
            s2n = np.where(left[:, None], s1, sn)
            x1, x2, s1, s2 = nx1, nx2, s1n, s2n
        return best_t, best_x, best_c

    # ---- outputs ------------------------------------------------------------------------------------------------
    def _assemble(self, res, status, w, y, centre, factor):
        model = self.model
        ok = status == 0
        k = np.where(ok, res["comp"], 0)
        sn = res["sn"]
        a = res["b"] / sn[:, None]
        canon = model.mean[k].copy()
        limb2 = np.full(len(k), np.nan)
        c0, c1, C2 = self._limb_quad
        for c in range(model.num_components):
            m = np.flatnonzero(ok & (k == c))
            if m.size:
                am = a[m]
                canon[m] += (am @ model.basis[c].reshape(model.num_basis, -1)).reshape(-1, 17, 3)
                limb2[m] = c0[c] + 2 * am @ c1[c] + np.einsum("nj,nj->n", am @ C2[c], am)
        lo, hi = self.limb_scale_range
        status[ok & ~((limb2 >= lo * lo) & (limb2 <= hi * hi))] = STATUS_IMPLAUSIBLE
        ok = status == 0
        pose = rotate_ground(canon, np.nan_to_num(res["angle"]))
        pose = pose - pose[:, :1]
        proj = project(pose, self.camera, scale=sn)
        # translation: weighted centroids coincide at the least-squares optimum
        pc = np.einsum("nl,nlc->nc", w, proj) / np.maximum(w.sum(1), 1e-300)[:, None]
        scale_px = sn / np.where(factor > 0, factor, np.nan)
        reproj = (proj - pc[:, None]) / np.where(factor > 0, factor, np.nan)[:, None, None] + centre[:, None]
        residual = np.einsum("nl,nl->n", w, np.sum((np.nan_to_num(reproj) - y) ** 2, -1))
        pose[~ok] = np.nan
        reproj[~ok] = np.nan
        a[~ok] = np.nan
        cam = np.einsum("ij,nlj->nli", self.camera, pose)
        out = LiftResult(
            pose3d=pose, pose3d_mm=pose * model.mm_per_unit, pose3d_camera_mm=cam * model.mm_per_unit,
            angle=np.where(ok, res["angle"], np.nan), scale=np.where(ok, scale_px, np.nan), coefficients=a,
            component=np.where(ok, res["comp"], -1), residual=np.where(ok, residual, np.nan), cost=np.where(ok, res["cost"], np.nan),
            reprojected=reproj, status=status, scale_relative=np.where(ok, sn, np.nan),
            scale_at_bound=ok & ((sn <= self.scale_bounds[0] * (1 + 1e-9)) | (sn >= self.scale_bounds[1] * (1 - 1e-9))),
        )
        return out


def group_rows(w):
    """Group identical rows of ``w (N, D)``: yields ``(row, indices)``; fast paths for one row and 0/1 values."""
    if np.all(w == w[0]):
        yield w[0], np.arange(len(w))
        return
    if np.all((w == 0) | (w == 1)):
        codes = (w > 0) @ (1 << np.arange(w.shape[1], dtype=np.int64))
    else:
        _, codes = np.unique(w, axis=0, return_inverse=True)
        codes = codes.reshape(-1)
    order = np.argsort(codes, kind="stable")
    bounds = np.flatnonzero(np.diff(codes[order])) + 1
    for group in np.split(order, bounds):
        yield w[group[0]], group


def lift(points2d, model: PoseModel, weights=None, **kwargs) -> LiftResult:
    """One-shot convenience wrapper: ``Lifter(model, **kwargs).lift(points2d, weights)``."""
    strict = kwargs.pop("strict", False)
    return Lifter(model, **kwargs).lift(points2d, weights, strict=strict)
