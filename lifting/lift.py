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

import functools
import multiprocessing
import os
import sys
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from . import series, skeleton
from .geometry import UPRIGHT_CAMERA, project, rotate_ground
from .model import PoseModel
from .smoothing import angle_penalty, angle_penalty_terms

#: defaults chosen by measurement on held-out training data (scripts/model_selection.py, results/model_selection.md)
DEFAULT_NOISE_2D = 0.08
DEFAULT_SCALE_BOUNDS = (0.6, 2.0)

#: angle searches: "optimum" (default) the exact minimum over the continuous angle: the grid finds each component's
#: basin, a safeguarded Newton iteration on the exact per-frame profile cost (any weights) finds its minimum;
#: "grid" the best of ``num_angles`` angles (the paper's search); "refine" the grid + a golden-section search.
SEARCHES = ("optimum", "grid", "refine")
# the six products of the trigonometric parts (A, B, Y) in N(theta) = c^2 AA + s^2 BB + cs (AB + BA) + c (AY + YA)
# + s (BY + YB) + YY, in the order of the coefficients (c^2, s^2, cs, c, s, 1)
_PAIRS = ((0, 0), (1, 1), (0, 1), (0, 2), (1, 2), (2, 2))
# ... and N(theta) as five harmonics: H0 + cos 2t H1 + sin 2t H2 + cos t H3 + sin t H4 (c^2 = (1 + cos 2t) / 2, s^2 =
# (1 - cos 2t) / 2, cs = sin 2t / 2): its derivatives need only H1..H4; rows: harmonics, columns: the six products
_HARMONICS = np.array([[0.5, 0.5, 0, 0, 0, 1], [0.5, -0.5, 0, 0, 0, 0], [0, 0, 0.5, 0, 0, 0], [0, 0, 0, 1, 0, 0],
                       [0, 0, 0, 0, 1, 0]])


def _sym(M, both):
    """``M + M^T`` over the last two axes when ``both``, else ``M``."""
    return M + np.swapaxes(M, -1, -2) if both else M


def _trig(theta):
    """Coefficients of the five harmonics (:data:`_HARMONICS`) at ``theta`` ``(5, m)``, and of their first and second
    derivatives without the constant one ``(4, m)``; frames last and contiguous (einsum over a strided operand is
    about 4x slower)."""
    c, s = np.cos(theta), np.sin(theta)
    c2, s2 = c * c - s * s, 2 * c * s
    return (np.stack([np.ones_like(c), c2, s2, c, s]), np.stack([-2 * s2, 2 * c2, -s, c]),
            np.stack([-4 * c2, -4 * s2, -c, -s]))


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

    def frame_record(self, i):
        """Frame ``i`` as a JSON-able record (``lifting lift``'s file; null where the frame was not lifted): status
        name, the 3D pose in model units, mm and camera-axes mm, angle, scales, component, coefficients, residual and
        the reprojected 2D."""
        ok = self.status[i] == STATUS_OK
        return {
            "status": STATUS_NAMES[int(self.status[i])],
            "pose3d_model_units": self.pose3d[i].round(6).tolist() if ok else None,
            "pose3d_mm": self.pose3d_mm[i].round(3).tolist() if ok else None,
            "pose3d_camera_mm": self.pose3d_camera_mm[i].round(3).tolist() if ok else None,
            "angle_rad": float(self.angle[i]) if ok else None,
            "scale_px_per_unit": float(self.scale[i]) if ok else None,
            "scale_relative": float(self.scale_relative[i]) if ok else None,
            "scale_at_bound": bool(self.scale_at_bound[i]),
            "component": int(self.component[i]),
            "coefficients": self.coefficients[i].tolist() if ok else None,
            "residual_px2": float(self.residual[i]) if ok else None,
            "reprojected": self.reprojected[i].round(3).tolist() if ok else None,
        }


class WeightPattern(NamedTuple):
    """What the grid search precomputes for one per-joint weight row (K components x A angles, P = J + 1 unknowns,
    L = 17 joints), acting on centred, unweighted 2D ``y (2L,)``."""
    M: np.ndarray  # (K, A, P + 1, 2L) float64: rows 0..P-1 give L^-1 D^T W y / nu, row P gives the scale s
    Mg: np.ndarray  # the same as one (K * A * (P + 1), 2L) matrix in the grid's dtype
    LinvT: np.ndarray  # (K, A, P, P): (L^-1)^T, the solution x = LinvT z
    w2: np.ndarray  # (2L,): the weights per coordinate
    v0: np.ndarray  # (K, A): (N^-1)_00, for the cost with s held at a bound
    ninv_e0: np.ndarray  # (K, A, P): N^-1 e_0, for the solution with s held at a bound
    v0g: np.ndarray  # v0 in the grid's dtype
    nbytes: int  # the arrays' size (the cache is bounded in bytes)


class _Hat(NamedTuple):
    """The ranking grid's hat matrices of a row of equal weights ``q`` on every joint, from which the ranking of the
    same row with a few joints missing follows by a low-rank downdate (:meth:`Lifter._downdates`)."""
    H: np.ndarray  # (2L, K * A, 2L): the hat of the design with its free translation (row, component and angle,
    # column), cost = q (y'y - y'Hy) / nu
    scale: np.ndarray  # (K * A, 2L): the scale s = scale @ y
    v0: np.ndarray  # (K * A,): (N^-1)_00
    gain: np.ndarray  # (K * A,): q / nu, what the downdate's term is multiplied by in the cost
    nbytes: int


class _Drop(NamedTuple):
    """A row's downdate of :class:`_Hat` (its missing joints' coordinates ``c``, 2m of them)."""
    c: np.ndarray  # (2m,): the missing coordinates (the hat's rows that the downdate takes)
    M: np.ndarray  # (K * A, 2m, 2m): (I - H[c, c])^-1
    fJ: np.ndarray  # (K * A, 2m): the scale's columns of the missing coordinates
    v0: np.ndarray  # (K, A): (N^-1)_00 of the row


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
        cache_bytes: bound of the per-weight-row cache of the grid's matrices (the newest row is always kept; the
            shipped model's 80 angles take about 4 MB a row, and its angle series about 40 MB; the series is used
            only where it takes at most 3/4 of this bound).
        series_min_frames: the default search expands the profile cost about every grid angle as a power series in
            the angle (:mod:`lifting.series`; about 0.3 s to build for the shipped model) for a weight row shared
            by at least this many frames of a call (or already built): no factorisation per frame.
        search: "optimum" (default), "grid" or "refine" (see :data:`SEARCHES`); ``refine=True`` is "refine".
        workers: processes that share the default search's exact per-frame searches when a call has at least
            ``parallel_min_pairs`` (16,384) of them (big batches with continuous weights): this one and workers - 1
            forked ones (Linux only, with threadpoolctl, and only while the process has no other thread: a fork
            copies the locks other threads hold; otherwise this process alone). None = the cores this process may run
            on; 1 = never fork.
        drop_max_joints: the default search ranks a weight row with this many joints missing or fewer (the rest of
            equal weight), shared by fewer than ``drop_max_frames`` (1,024) frames of a call, by a downdate of the
            grid of the row with every joint (:meth:`_downdates`: a few products a frame) instead of a grid of its
            own (about 6 ms to build); 0 = always its own grid. The same ranking either way (to float32's
            rounding).
    """

    def __init__(self, model: PoseModel, camera=None, num_angles=80, refine=False, noise_2d=DEFAULT_NOISE_2D,
                 scale_bounds=DEFAULT_SCALE_BOUNDS, limb_scale_range=(0.5, 2.0), min_visible=5, grid_dtype="auto",
                 chunk_elements=1 << 20, cache_bytes=128 << 20, search=None, series_min_frames=4096, workers=None,
                 drop_max_joints=4):
        if not isinstance(model, PoseModel):
            raise TypeError(f"model must be a PoseModel, got {type(model).__name__}")
        camera = UPRIGHT_CAMERA if camera is None else np.asarray(camera, np.float64)
        if camera.shape != (3, 3) or not np.all(np.isfinite(camera)):
            raise ValueError(f"camera must be a finite (3, 3) rotation matrix, got shape {camera.shape}")
        if np.abs(camera @ camera.T - np.eye(3)).max() > 1e-6 or np.linalg.det(camera) < 0:
            raise ValueError("camera must be a rotation matrix (orthonormal, det +1)")
        if int(num_angles) < 3:
            raise ValueError(f"num_angles must be >= 3, got {num_angles}")
        if search is None:
            search = "refine" if refine else "optimum"
        if search not in SEARCHES:
            raise ValueError(f"search must be one of {', '.join(SEARCHES)}, got {search!r}")
        if refine and search != "refine":
            raise ValueError(f"refine=True is search='refine', not search={search!r}")
        self.model = model
        self.camera = camera
        self.num_angles = int(num_angles)
        self.search = search
        self.refine = search == "refine"
        self.min_visible = int(min_visible)
        self.chunk_elements = int(chunk_elements)
        if isinstance(grid_dtype, str) and grid_dtype == "auto":
            grid_dtype = np.float32 if self.num_angles <= 720 else np.float64
        self.grid_dtype = np.dtype(grid_dtype)
        self.series_min_frames = int(series_min_frames)
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
        self.workers = cores if workers is None else int(workers)
        if self.workers < 1:
            raise ValueError(f"workers must be >= 1 (or None: the machine's cores), got {workers}")
        self.parallel_min_pairs = 16384
        self.series_part_frames = 65536  # the angle series' path: frames a part (see _series_search)
        self.basins = 2  # local minima of the grid searched per component (see _rank)
        self.level_min_frames = 256  # continuous weights: the fewest frames ranked with levels (see _optimum)
        self.refine_chunk = 512  # frames per batch of exact 1D searches (per-frame normal-equation pieces: 13 KB each)
        # a weight row with this many joints missing or fewer, shared by fewer frames than drop_max_frames of a call,
        # is ranked by a downdate of its all-visible row's grid instead of a grid of its own (see _downdates)
        self.drop_max_joints = int(drop_max_joints)
        self.drop_max_frames = 1024
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
        # per-joint blocks of the normal equations (see _pieces): for every component and joint, the five harmonics
        # of N(theta) (from the six products of the trigonometric parts A, B, Y), the parts and their flat form
        tp = self.trig_parts  # (3, K, P, L, 2)
        # the products are symmetric: their lower triangles, packed column by column (column j's rows j..P-1 are
        # contiguous: see _cholesky)
        self._tril = _packed_pairs(self.P)
        self._diag = np.flatnonzero(self._tril[0] == self._tril[1])
        self._tril_twice = np.where(self._tril[0] == self._tril[1], 1.0, 2.0)
        # packed -> full (P * P) positions, and, for the centring, each pair's entries in the (3P, 3P) outer
        # product of the weighted sums of the three parts (both orders for the symmetrised pairs)
        full = np.empty((self.P, self.P), np.int64)
        full[self._tril] = full[self._tril[::-1]] = np.arange(len(self._tril[0]))
        self._unpack = full.reshape(-1)
        P3 = 3 * self.P
        self._centre_idx = np.stack([(t1 * self.P + self._tril[0]) * P3 + t2 * self.P + self._tril[1]
                                     for t1, t2 in _PAIRS])  # (6, T) into the flattened (3P, 3P)
        self._centre_idx_t = np.stack([(t2 * self.P + self._tril[0]) * P3 + t1 * self.P + self._tril[1]
                                       for t1, t2 in _PAIRS])
        self._centre_sym = np.array([t1 != t2 for t1, t2 in _PAIRS])
        blocks = np.stack([_sym(np.einsum("kplc,kqlc->klpq", tp[t1], tp[t2]), t1 != t2) for t1, t2 in _PAIRS], axis=2)
        self._joint_blocks = np.einsum("hp,klpt->klht", _HARMONICS,
                                       blocks[..., self._tril[0], self._tril[1]]).reshape(K, L, -1)
        self._joint_parts = tp.transpose(1, 3, 0, 2, 4).reshape(K, L, -1)  # (K, L, 3 P 2)
        self._flat_parts = tp.transpose(1, 3, 4, 0, 2).reshape(K, 2 * L, 3 * self.P)  # (K, 2L, 3P)
        self._cache = OrderedDict()
        self._cache_bytes = int(cache_bytes)
        # the angle series of one weight row (order about 14 at 80 angles: 43 MB for the shipped model) is used only
        # where it takes at most 3/4 of the cache (not with hundreds of angles or many components)
        T2 = L * (2 * L + 1)
        self._series_fits = K * self.num_angles * (T2 + 2 * L + 2 * L * self.P) * 8 * 15 <= 0.75 * self._cache_bytes
        self._prior_angle = None  # set per call of lift() (angle_prior)

    # ---- per weight-pattern precomputation ---------------------------------------------------------------
    def _pattern(self, w):
        """Precompute, for per-joint weights ``w (17,)``, the matrices of every (component, angle)."""
        key = b"grid" + w.tobytes()
        hit = self._cached(key)
        if hit is not None:
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
        arrays = {"M": M, "Mg": M.reshape(K * A * (P + 1), -1).astype(self.grid_dtype, copy=False),
                  "LinvT": Linv.transpose(0, 1, 3, 2).copy(), "w2": w2, "v0": v0, "ninv_e0": ninv_e0,
                  "v0g": v0.astype(self.grid_dtype)}
        return self._store(key, WeightPattern(**arrays, nbytes=sum(v.nbytes for v in arrays.values())))

    def _series(self, w, order=None):
        """The angle series of weight row ``w (17,)`` about every grid angle, exact within half a grid step
        (:func:`lifting.series.build`), or of order ``order`` (0: the grid alone), cached."""
        key = (b"series" if order is None else b"order%d" % order) + w.tobytes()
        hit = self._cached(key)
        if hit is not None:
            return hit if hit.nbytes else None
        try:
            entry = series.build(self.trig_parts, w, self.angles, self.nu, self.prior, np.pi / self.num_angles,
                                 tol=1e-12, order=order)
        except series.SeriesDiverges:
            entry = _NO_SERIES  # remembered: this row is solved frame by frame
        if entry.nbytes > 0.75 * self._cache_bytes:
            entry = _NO_SERIES  # a high order: it would crowd out everything else
        self._store(key, entry)
        return entry if entry.nbytes else None

    def _hat(self, q):
        """The hat matrices of the ranking grid of weight ``q`` on every joint (:class:`_Hat`), cached."""
        L = skeleton.NUM_JOINTS
        base = np.full(L, float(q))
        key = b"hat" + base.tobytes()
        hit = self._cached(key)
        if hit is not None:
            return hit
        sp = self._series(base, order=0)
        K, A = self.model.num_components, self.num_angles
        i, j, twice = series.packed_index(2 * L)
        g = sp.G[..., 0].reshape(K * A, -1) / twice
        gain = np.repeat(q / self.nu, A)
        H = np.empty((K * A, 2 * L, 2 * L))
        H[:, i, j] = g / gain[:, None]  # G = (q / nu) times the hat of the weighted-centred design
        H[:, j, i] = H[:, i, j]
        H[:, 0::2, 0::2] += 1.0 / L  # the translation's hat (centring is the free translation solved out)
        H[:, 1::2, 1::2] += 1.0 / L
        arrays = (np.ascontiguousarray(H.transpose(1, 0, 2)), sp.scale.reshape(K * A, -1).copy(),
                  sp.v0.reshape(-1).copy(), gain)
        return self._store(key, _Hat(*arrays, nbytes=sum(a.nbytes for a in arrays)))

    def _downdates(self, hat, missing):
        """The ranking of rows that are ``hat``'s with joints missing (``missing``: a list of index arrays), as
        downdates (:class:`_Drop` each):

        With the translation as two unpenalised unknowns, removing joints subtracts their rows from the normal
        equations, ``N_w = N - (q / nu) D_c' D_c`` (``c`` the missing coordinates), and Woodbury's identity gives,
        for 2D ``y`` that is 0 at ``c``, the cost ``q / nu (y'y - y'Hy - (Hy)_c' (I - H_cc)^-1 (Hy)_c)``, the scale
        ``s + scale_c (I - H_cc)^-1 (Hy)_c`` and ``(N_w^-1)_00 = v0 + (nu / q) scale_c (I - H_cc)^-1 scale_c'``: a few
        products a frame instead of a grid of the row's own (a factorisation a component and angle). None where
        ``I - H_cc`` is near singular (a row whose scale the remaining joints hardly determine): that row gets its
        own grid."""
        out = [None] * len(missing)
        sizes = np.array([len(m) for m in missing])
        for size in np.unique(sizes):  # the rows with as many joints missing: their small inverses in one batch
            rows = np.flatnonzero(sizes == size)
            c = (2 * np.stack([missing[r] for r in rows])[..., None] + np.arange(2)).reshape(len(rows), -1)  # (G, 2m)
            M = _small_inverses(np.eye(c.shape[1]) - hat.H[c[:, :, None], :, c[:, None, :]].transpose(0, 3, 1, 2), 1e8)
            fJ = hat.scale[:, c].transpose(1, 0, 2)  # (G, K A, 2m)
            v0 = hat.v0 + np.einsum("grj,grjl,grl->gr", fJ, M, fJ) / hat.gain
            for i, r in enumerate(rows):
                if np.isfinite(M[i]).all():
                    out[r] = _Drop(c[i], M[i], fJ[i],
                                   v0[i].reshape(-1, self.num_angles))
        return out

    def _cached(self, key):
        hit = self._cache.get(key)
        if hit is not None:
            self._cache.move_to_end(key)
        return hit

    def _store(self, key, entry):
        """Cache ``entry``; bounded in bytes, the newest entry always kept."""
        self._cache[key] = entry
        while len(self._cache) > 1 and sum(e.nbytes for e in self._cache.values()) > self._cache_bytes:
            self._cache.popitem(last=False)
        return entry

    # ---- public API -----------------------------------------------------------------------------------------
    def lift(self, points2d, weights=None, strict=False, angle_prior=None) -> LiftResult:
        """Lift 2D poses.

        Args:
            points2d: ``(N, 17, 2)`` (or ``(17, 2)``) image coordinates, H36M joint order (x right, y down with
                the default camera). NaN marks a missing joint.
            weights: ``(N, 17)`` (or ``(17,)``) non-negative per-joint weights; 0 = missing. Default: 1 where
                the coordinates are finite. A weight row shared by ``series_min_frames`` frames is solved through
                its angle series (the fastest path); other 0/1 rows through their cached ranking grid and per-frame
                Newton (a row with at most ``drop_max_joints`` joints missing and few frames ranked by a downdate of
                the grid with every joint: no grid of its own); continuous weights frame by frame, batched (about
                0.3-0.4 of the speed of all-1 weights at large batches); ``search="grid"`` computes the grid's
                matrices once per distinct row (a few ms each).
            strict: raise ValueError on the first bad frame instead of reporting it in ``status``.
            angle_prior: ``(previous (N,), weight)``: adds ``weight (1 - cos(theta - previous))`` (normalised cost
                units) to every frame's cost, so that a video's ground-plane angle stays near the previous frame's
                where the 2D allows both (:mod:`lifting.smoothing`); NaN in ``previous`` = no prior for that frame.
                It ranks the grid's angles and the components and takes part in the exact search's minimisation.
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
            if self.search == "optimum":
                self._optimum(w[idx_ok], yn[idx_ok].reshape(idx_ok.size, -1), idx_ok, res)
            else:
                for pattern, sel in group_rows(w[idx_ok]):
                    sel = idx_ok[sel]
                    self._solve_pattern(pattern, yn[sel].reshape(len(sel), -1), sel, res)
        status[ok & ~np.isfinite(res["cost"])] = STATUS_NO_SOLUTION
        if strict and np.any(status != 0):
            bad = np.flatnonzero(status != 0)
            msgs = [f"frame {i}: {STATUS_NAMES[status[i]]}" for i in bad[:10]]
            raise ValueError(f"{bad.size} of {n} frames cannot be lifted: " + "; ".join(msgs))
        return self._assemble(res, status, w, y, centre, factor)

    def _angle_cost(self, theta, frames):
        """The angle prior's cost of angles ``theta`` for frames ``frames`` (broadcast); 0 without a prior."""
        if self._prior_angle is None or frames is None:
            return 0.0
        prev, weight = self._prior_angle
        return angle_penalty(theta, prev[frames], weight)

    def _angle_terms(self, theta, frames):
        """The angle prior's cost and its first two derivatives at ``theta (m,)`` for frames ``frames (m,)``; zeros
        without a prior."""
        if self._prior_angle is None or frames is None:
            return 0.0, 0.0, 0.0
        prev, weight = self._prior_angle
        return angle_penalty_terms(theta, prev[frames], weight)

    def _grid(self, pat, y, frames=None):
        """Grid search of one chunk ``y (m, 2L)`` (centred) sharing the pattern ``pat``: per component the best angle
        ``(K, m)``, its float64 cost (bound penalty included), ``z`` and ``(N^-1)_00`` there, and how much lower than
        the best grid cost a neighbouring grid angle is allowed to be ``(K, m)`` (an upper bound of what the continuous
        minimum next to it can gain, used to pick the components worth an exact search)."""
        K, A, P = self.model.num_components, self.num_angles, self.P
        nu = self.nu
        m = len(y)
        Mg = pat.Mg
        yy = np.einsum("nr,nr,r->n", y, y, pat.w2)
        Z = (Mg @ y.T.astype(Mg.dtype, copy=False)).reshape(K, A, P + 1, m)
        cost = yy[None, None] / nu[:, None, None] - np.einsum("kapn,kapn->kan", Z[:, :, :P], Z[:, :, :P])
        cost = cost + self._angle_cost(self.angles[:, None], frames)  # (A, m) or 0: the video's angle prior
        best_a = np.argmin(cost, axis=1)  # (K, m)
        # The bound's penalty is >= 0 and 0 inside the bounds: where the unpenalised winner's scale is inside,
        # it also wins the penalised search. Only the other (component, frame) pairs are searched again.
        s_best = np.take_along_axis(Z[:, :, P], best_a[:, None], 1)[:, 0]  # (K, m)
        kb, nb = np.nonzero((s_best < self.scale_bounds[0]) | (s_best > self.scale_bounds[1]))
        if kb.size:
            pen = self._bound_penalty(Z[kb, :, P, nb], pat.v0g[kb])  # (bad, A)
            cost[kb, :, nb] += pen
            best_a[kb, nb] = np.argmin(cost[kb, :, nb], axis=1)
        c_at = np.take_along_axis(cost, best_a[:, None], 1)[:, 0]
        cm = np.take_along_axis(cost, (best_a[:, None] - 1) % A, 1)[:, 0].astype(np.float64)
        cp = np.take_along_axis(cost, (best_a[:, None] + 1) % A, 1)[:, 0].astype(np.float64)
        gain = np.abs(np.maximum(cm, cp) - c_at) + 1e-6 * np.abs(c_at)  # float32 ranks: its resolution too
        # the vertex of the parabola through the best angle and its neighbours (in grid steps): where the exact
        # search starts
        curv = cm - 2 * c_at + cp
        vertex = np.clip(0.5 * (cm - cp) / np.where(curv > 0, curv, np.inf), -0.5, 0.5)
        # exact (float64) cost and solution at every component's best angle
        kk = np.arange(K)[:, None]
        Mk = pat.M[kk, best_a]  # (K, m, P+1, 2L)
        z = np.einsum("kmpr,mr->kmp", Mk, y)
        best_cost = yy[None] / nu[:, None] - np.einsum("kmp,kmp->km", z[..., :P], z[..., :P])
        v0 = pat.v0[kk, best_a]
        best_cost += self._bound_penalty(z[..., P], v0)
        best_cost += self._angle_cost(self.angles[best_a], frames if frames is None else np.asarray(frames)[None])
        return best_a, best_cost, z, v0, gain, vertex

    def _solve_pattern(self, w, ys, sel, res):
        """Grid search (and golden-section refinement) for frames ``sel`` sharing weights ``w``; ``ys (n, 2L)``.

        The search over angles runs in ``grid_dtype`` (float32 by default: it only ranks angles); the cost and the
        solution at each component's best angle are then recomputed in float64.
        """
        pat = self._pattern(w)
        K, A, P = self.model.num_components, self.num_angles, self.P
        chunk = max(1, self.chunk_elements // (K * A * (P + 1)))
        nobs = 2 * np.count_nonzero(w > 0)
        logdet = self.log_prior_det[:, None] + 0.5 * nobs * np.log(self.nu)[:, None]
        for start in range(0, len(sel), chunk):
            y = ys[start:start + chunk]
            m = len(y)
            best_a, best_cost, z, v0, _, _ = self._grid(pat, y, sel[start:start + chunk])
            k = np.argmin(0.5 * best_cost + logdet, axis=0)
            cols = np.arange(m)
            a_i = best_a[k, cols]
            x = np.einsum("nij,nj->ni", pat.LinvT[k, a_i], z[k, cols, :P])
            x = self._bound_solution(x, pat.ninv_e0[k, a_i], v0[k, cols])
            out = sel[start:start + chunk]
            res["angle"][out] = self.angles[a_i]
            res["sn"][out] = x[:, 0]
            res["b"][out] = x[:, 1:]
            res["comp"][out] = k
            res["cost"][out] = best_cost[k, cols]
        if self.refine:
            step = 2 * np.pi / self.num_angles
            for start in range(0, len(sel), self.refine_chunk):
                out = sel[start:start + self.refine_chunk]
                k = res["comp"][out]
                pieces = self._pieces(np.broadcast_to(w, (len(out), len(w))), ys[start:start + self.refine_chunk], k)
                x = np.concatenate([res["sn"][out, None], res["b"][out]], axis=1)
                theta = res["angle"][out]
                theta, x, c = self._golden(theta - step, theta + step, pieces, theta, x, res["cost"][out], out)
                res["angle"][out] = np.mod(theta, 2 * np.pi)
                res["sn"][out] = x[:, 0]
                res["b"][out] = x[:, 1:]
                res["cost"][out] = c

    def _optimum(self, w, ys, sel, res):
        """The exact minimum over the continuous angle for frames ``sel`` with per-frame weights ``w (n, L)``.

        1. Grid: each component's ``basins`` lowest local minima over ``num_angles`` angles (:meth:`_rank`). Frames
           are grouped by weight rows when those are 0/1 (or all equal); continuous weights (every row its own) are
           ranked with their visibility times a level (q vis, q one of 2^(i/4): for a batch of ``level_min_frames``
           or more the one nearest the median mean weight of its frames of that visibility; else q = 1), so the grid
           runs on one cached pattern a visibility. A row shared by enough
           frames is solved through its angle series instead (:meth:`_series_search`).
        2. Exact: for every (component, basin) that can still win (bounds below), a safeguarded Newton iteration on
           the exact profile cost of the frame's own weights, within a grid step of the grid's angle (two for
           continuous weights), from per-frame normal equations assembled from per-joint blocks; frames where it does
           not converge to an interior minimum with the scale inside its bounds get a golden-section search of the
           same bracket (which keeps the best point seen).
        3. The most probable component of the exact solutions.

        For continuous weights the ranking is an approximation of the frame's own profile, whose basins it can merge
        or move: on 30,000 noisy frames with weights in [0.5, 1] one frame ends in a local minimum worse than the
        80-angle grid of its own weights (22 with the visibility ranking and one basin a component).
        """
        K, P = self.model.num_components, self.P
        n = len(w)
        # 0/1 rows (few patterns, all cached) and a big batch of one row are ranked with their own weights; other
        # rows (continuous: a pattern each) with q vis
        exact_rows = bool(np.all((w == 0) | (w == 1)) or (n >= 256 and np.all(w == w[0])))
        if exact_rows:
            rank_w = w
        else:
            # continuous weights are ranked with their visibility times q, a level 2^(i/4) (within 2^-16..2^16: the
            # float32 grid stays finite) whose costs approximate (and bound, see below) the frame's own: in a batch of
            # level_min_frames frames or more, for the frames of one visibility the level nearest the median of their
            # mean weights (one grid per visibility, as with q = 1, which smaller batches keep: their grids are
            # cached for the next call, a video's frame)
            vis = w > 0
            wmin, wmax = np.where(vis, w, np.inf).min(1), w.max(1)
            bits = visibility_codes(vis)
            level = np.zeros(n, np.int64)
            if n >= self.level_min_frames:
                near = 4 * np.log2(np.where(vis, w, 0).sum(1) / vis.sum(1))
                for g in group_codes(bits):
                    level[g] = np.clip(np.round(np.median(near[g])), -64, 64)
            q = 2.0 ** (level / 4)
            rank_w = q[:, None] * vis
        logdet = (self.log_prior_det[:, None]
                  + 0.5 * 2 * np.count_nonzero(w > 0, axis=1)[None] * np.log(self.nu)[:, None])
        B = self.basins
        logdet = np.repeat(logdet, B, axis=0)  # rows: (component, basin) pairs, component k's basin b at k B + b
        best_a = np.empty((K * B, n), np.int64)
        score = np.empty((K * B, n))
        gain = np.empty((K * B, n))
        vertex = np.empty((K * B, n))
        # the grid's costs: <= 64 MB float32 (with downdates, the scale's terms and (N^-1)_00 in float64: twice that)
        rank_chunk = max(64, min(8192, (16 << 20) // (K * self.num_angles)))
        todo = np.ones(n, bool)  # frames not yet solved by the angle series
        if exact_rows:
            groups = group_rows(rank_w)
        else:  # the rows q vis: their visibility bits and level
            groups = ((rank_w[g[0]], g) for g in group_codes(bits + ((level + 64) << vis.shape[1])))
        # each group's ranking: its own grid, or (a few joints missing, few frames) a downdate of the grid of its
        # weight on every joint; frames that share a ranking grid are ranked together
        ranked = {}
        for pattern, g in groups:
            if exact_rows and self._series_fits and (len(g) >= self.series_min_frames
                                                     or self._cached(b"series" + pattern.tobytes())):
                solved = self._series_search(pattern, ys[g], sel[g], res)
                todo[g[solved]] = False
                g = g[~solved]
                if not len(g):
                    continue
            base, missing = pattern, None
            gone = np.flatnonzero(pattern == 0)
            if (0 < len(gone) <= self.drop_max_joints and len(g) < self.drop_max_frames
                    and np.all(pattern[pattern > 0] == pattern.max())
                    and self._cached(b"order0" + pattern.tobytes()) is None):
                base, missing = np.full_like(pattern, pattern.max()), gone
            ranked.setdefault(base.tobytes(), (base, []))[1].append((g, missing))
        for key in list(ranked):  # the downdates; a row whose downdate is near singular gets its own grid
            base, parts = ranked[key]
            asked = [i for i, (_, gone) in enumerate(parts) if gone is not None]
            if not asked:
                continue
            drops = dict(zip(asked, self._downdates(self._hat(base[0]), [parts[i][1] for i in asked])))
            kept = []
            for i, (g, gone) in enumerate(parts):
                if gone is None or drops[i] is not None:
                    kept.append((g, drops.get(i)))
                else:
                    own = rank_w[g[0]]
                    ranked.setdefault(own.tobytes(), (own, []))[1].append((g, None))
            if kept:
                ranked[key] = (base, kept)
            else:  # every downdate refused and no frame of the row itself
                del ranked[key]
        for base, parts in ranked.values():
            sp = self._series(base, order=0)  # the grid of packed outer products (ranking only)
            hat = self._hat(base[0]) if any(d is not None for _, d in parts) else None
            g = np.concatenate([p for p, _ in parts])
            part = np.repeat(np.arange(len(parts)), [len(p) for p, _ in parts])
            for start in range(0, len(g), rank_chunk):
                gi, pi = g[start:start + rank_chunk], part[start:start + rank_chunk]
                # centred with the ranking row's weights, as the grid's design is (for continuous weights ranked
                # by visibility the two centroids differ, and the grid's cost would include their offset)
                rw = rank_w[gi]
                yv = ys[gi].reshape(len(gi), -1, 2)
                yv = (yv - np.einsum("nl,nlc->nc", rw, yv)[:, None] / rw.sum(1)[:, None, None]) * (rw > 0)[..., None]
                drops = [(r, parts[pi[r[0]]][1]) for r in group_codes(pi) if parts[pi[r[0]]][1] is not None]
                b, c, ga, ve = (v.reshape(len(gi), K * B).T for v in self._rank(
                    sp, yv.reshape(len(gi), -1), sel[gi], np.repeat(base, 2), basins=B, drops=drops, hat=hat)[2:])
                best_a[:, gi], score[:, gi], gain[:, gi], vertex[:, gi] = b, 0.5 * c + logdet[:, gi], ga, ve
        step = 2 * np.pi / self.num_angles
        if exact_rows:
            # the exact search lowers a component's cost by at most about its neighbours' excess (``gain``): skip the
            # components that cannot reach the best one's grid score
            cand = score - 0.5 * gain <= score.min(0)
            half = step
        else:
            # The grid ranked the weights q vis. For every (angle, solution) the cost with weights w (data D, prior P:
            # a D + P for weights a vis) lies between those with w_min vis and w_max vis, and a D + P lies between
            # min(a / q, 1) and max(a / q, 1) times q D + P, so each component's minimum lies between those factors
            # times its grid cost: skip the components whose lower bound exceeds the best upper bound.
            c = 2 * (score - logdet)
            upper = 0.5 * np.maximum(wmax / q, 1.0) * c + logdet
            lower = 0.5 * np.minimum(wmin / q, 1.0) * np.maximum(c - gain, 0) + logdet
            cand = lower <= upper.min(0)
            half = 2 * step
        none = ~cand.any(0)  # bounds that are not numbers (weights beyond float64's range): every basin is searched
        cand[:, none] = np.isfinite(score[:, none])
        cand &= todo
        table = np.full((K * B, n), np.inf)  # the exact solutions' scores
        row = np.full((K * B, n), -1)
        th, cost, x = np.empty(0), np.empty(0), np.empty((0, P))
        if exact_rows:
            rounds = [cand]
        else:
            # first each frame's component of the best upper bound; then only those whose lower bound reaches the
            # best exact score found (never above the best upper bound)
            first = np.zeros_like(cand)
            first[np.argmin(np.where(cand, np.nan_to_num(upper, nan=np.inf), np.inf), axis=0), np.arange(n)] = True
            rounds = [first & cand, None]
        for cand_r in rounds:
            if cand_r is None:
                cand_r = cand & ~first & (lower <= table.min(0))
            kk, nn = np.nonzero(cand_r)
            if not len(kk):
                continue
            t_r, x_r, c_r = self._solve_pairs(kk, nn, w, ys, sel, best_a, vertex, half, exact_rows, B)
            row[kk, nn] = len(th) + np.arange(len(kk))
            table[kk, nn] = np.nan_to_num(0.5 * c_r + logdet[kk, nn], nan=np.inf)
            th, x, cost = np.concatenate([th, t_r]), np.concatenate([x, x_r]), np.concatenate([cost, c_r])
        v = np.argmin(table, axis=0)
        r = row[v, np.arange(n)]
        # a frame none of whose exact searches gave a number is left unsolved (NaN: STATUS_NO_SOLUTION)
        keep = todo & np.isfinite(table[v, np.arange(n)])
        r, k, out = r[keep], v[keep] // B, sel[keep]
        res["angle"][out] = np.mod(th[r], 2 * np.pi)
        res["sn"][out] = x[r, 0]
        res["b"][out] = x[r, 1:]
        res["comp"][out] = k
        res["cost"][out] = cost[r]

    def _solve_pairs(self, kk, nn, w, ys, sel, best_a, vertex, half, exact_rows, basins=1):
        """The exact search of the (row ``kk`` of ``best_a`` and ``vertex``: component ``kk // basins``'s basin ``kk %
        basins``; frame ``nn``) pairs from their grid angles: angle, solution, cost (the angle prior included)."""
        n, P = len(w), self.P
        step = 2 * np.pi / self.num_angles
        theta0 = self.angles[best_a[kk, nn]]
        th, cost = np.empty(len(kk)), np.empty(len(kk))
        x = np.empty((len(kk), P))
        # candidates of frames that share a weight row (at least ``refine_chunk`` of them) share its normal-equation
        # pieces; the others get their own
        runs = []
        if exact_rows:
            gid = np.empty(n, np.int64)
            big = []
            for i, (_, g) in enumerate(group_rows(w)):
                gid[g] = i
                big.append(len(g) >= self.refine_chunk)
            big = np.array(big)
            order = np.argsort(gid[nn], kind="stable")
            shared = big[gid[nn[order]]]
            for part in np.split(order[shared], np.flatnonzero(np.diff(gid[nn[order[shared]]])) + 1):
                runs += [(part[i:i + 8 * self.refine_chunk], True) for i in range(0, len(part), 8 * self.refine_chunk)]
            rest = np.sort(order[~shared])
            runs += [(rest[i:i + self.refine_chunk], False) for i in range(0, len(rest), self.refine_chunk)]
        else:
            runs = [(np.arange(i, min(i + self.refine_chunk, len(kk))), False)
                    for i in range(0, len(kk), self.refine_chunk)]
        runs = [r for r in runs if len(r[0])]
        args = (kk, nn, w, ys, sel, theta0, step * vertex[kk, nn], half, basins)
        groups = _share(runs, self.workers if len(kk) >= self.parallel_min_pairs and _can_fork() else 1)
        parts = _fork_map(lambda g: self._solve_runs(g, *args), groups)
        for s, t_r, x_r, c_r in parts:
            th[s], x[s], cost[s] = t_r, x_r, c_r
        return th, x, cost

    def _solve_runs(self, runs, kk, nn, w, ys, sel, theta0, offset, half, basins):
        """:meth:`_solve_pairs` of the pairs of ``runs`` (``(indices, shared)``): their indices, angles, solutions,
        costs."""
        s_all = np.concatenate([s for s, _ in runs]) if runs else np.zeros(0, np.int64)
        th, cost, x = np.empty(len(s_all)), np.empty(len(s_all)), np.empty((len(s_all), self.P))
        at = 0
        for s, shared in runs:
            pieces = self._pieces(w[nn[s]], ys[nn[s]], kk[s] // basins, shared=shared)
            # the prior takes part in the minimisation, and the components compete with it too
            r = slice(at, at + len(s))
            th[r], x[r], cost[r] = self._exact_search(theta0[s], half, pieces, start=theta0[s] + offset[s],
                                                      frames=sel[nn[s]])
            at += len(s)
        return s_all, th, x, cost

    def _rank(self, sp, y, frames, w2, basins=1, drops=(), hat=None):
        """The grid search through packed outer products (:class:`lifting.series.SeriesPattern`) of ``y (m, 2L)``
        centred with the pattern's weights (``w2 (2L,)`` per coordinate), in float32 (it only ranks angles), the
        scale bound's penalty and the angle prior included: the packed outer products ``(m, T2)``, ``y'Wy (m,)``, and
        per frame, component and basin ``(m, K, basins)`` the angle, its cost (inf: no such basin), the larger
        neighbour's excess (with float32's resolution of the sums: what the continuous minimum can gain) and the vertex
        of the parabola through the angle and its neighbours, in grid steps. Basin 0 is the best angle; basin 1 the
        best other local minimum over the circle of angles (the profile often has two: a pose and its mirror seen
        from behind), whose continuous minimum may be the lower one.

        ``drops``: ``(rows, drop)`` pairs: those rows of ``y`` (centred with their own weights, 0 at their missing
        joints) are ranked with the pattern's row less their missing joints, a :class:`_Drop` of ``hat``, the
        pattern's :class:`_Hat` (the pattern is then one weight on every joint)."""
        K, A = self.model.num_components, self.num_angles
        nu = self.nu
        lo, hi = self.scale_bounds
        m = len(y)
        q = series.packed_outer(y, series.packed_index(2 * skeleton.NUM_JOINTS))  # (m, T2)
        yy = np.einsum("nr,nr,r->n", y, y, w2)
        cost = (q.astype(np.float32) @ sp.grid).reshape(m, K, A)
        np.subtract((yy[:, None] / nu).astype(np.float32)[..., None], cost, out=cost)
        fix, v0 = None, np.broadcast_to(sp.v0, (m, K, A))
        if len(drops):
            fix, v0 = np.zeros((m, K, A)), v0.copy()  # the downdates' scale terms and (N^-1)_00
            for rows, d in drops:
                hy = (y[rows] @ hat.H[d.c].reshape(-1, y.shape[1]).T).reshape(len(rows), -1, K * A)  # (H y)_c
                t = np.einsum("njr,rjl->nlr", hy, d.M)
                cost[rows] -= (np.einsum("nlr,nlr->nr", t, hy) * hat.gain).astype(np.float32).reshape(-1, K, A)
                fix[rows] = np.einsum("nlr,rl->nr", t, d.fJ).reshape(-1, K, A)
                v0[rows] = d.v0
        if self._prior_angle is not None:
            cost += self._angle_cost(self.angles[None, :], frames[:, None])[:, None].astype(np.float32)
        best = _basins(cost, basins)  # (m, K, B)
        found = best >= 0
        s_best = np.einsum("mkbr,mr->mkb", sp.scale[np.arange(K)[:, None], np.maximum(best, 0)], y)
        if fix is not None:
            s_best += np.take_along_axis(fix, np.maximum(best, 0), 2)
        nb, kb = np.nonzero(np.any(found & ((s_best < lo) | (s_best > hi)), axis=2))
        if kb.size:  # the bound's penalty (0 inside) can move these pairs' angles: added at every angle
            for k in np.unique(kb):
                i = nb[kb == k]
                s = y[i] @ sp.scale[k].T
                if fix is not None:
                    s += fix[i, k]
                cost[i, k] += self._bound_penalty(s, v0[i, k]).astype(np.float32)
            best[nb, kb] = _basins(cost[nb, kb], basins)
            found = best >= 0
        b = np.maximum(best, 0)
        c_at = np.where(found, np.take_along_axis(cost, b, 2).astype(np.float64), np.inf)
        cm = np.take_along_axis(cost, (b - 1) % A, 2)
        cp = np.take_along_axis(cost, (b + 1) % A, 2)
        gain = np.where(found, np.abs(np.maximum(cm, cp) - c_at) + 1e-5 * (yy[:, None] / nu)[..., None], 0.0)
        curv = cm - 2 * np.where(found, c_at, 0) + cp
        vertex = np.clip(0.5 * (cm - cp) / np.where(curv > 0, curv, np.inf), -0.5, 0.5)
        return q, yy, b, c_at, gain, vertex

    def _series_search(self, w, ys, frames, res, chunk=2048):
        """The exact minimum over the continuous angle for frames ``frames`` sharing the weight row ``w``, ``ys (n,
        2L)`` centred with it, through the angle series (:mod:`lifting.series`):

        1. the grid: one product of the packed outer products ``y y'`` per chunk (small enough that they stay in the
           cache); each component's best angle;
        2. for each component that can still win (as in :meth:`_optimum`), the minimum of its series within half a
           grid step of that angle; a minimum on the half step's edge moves on to the neighbouring angle's series
           (twice at most), so the search is not confined to the grid's neighbourhood;
        3. the most probable component and its solution.

        Steps 2 and 3 run over parts of at most ``series_part_frames`` (65,536) frames, (component, angle) by
        (component, angle), each block's packed outer products made anew (cheaper than keeping them all: their
        memory, and a block a chunk); a call of ``parallel_min_pairs`` frames or more shares its parts among
        ``workers`` processes (:func:`_fork_map`).

        Writes the solved frames into ``res`` and returns which they are ``(n,)``: a frame is left to the factorising
        search when a component whose scale ends outside its bounds could still win (the bounded profile is not a
        polynomial)."""
        sp = self._series(w)
        solved = np.zeros(len(ys), bool)
        if sp is None:  # no series for this row: every frame to the factorising search
            return solved
        # parts: each at most series_part_frames (memory), as many as a multiple of the workers for a big call
        workers = self.workers if len(ys) >= self.parallel_min_pairs and _can_fork() else 1
        count = max(workers, -(-len(ys) // self.series_part_frames))
        count = -(-count // workers) * workers
        parts = np.array_split(np.arange(len(ys)), count)
        if workers > 1:
            per = [parts[i::workers] for i in range(workers)]
            outs = sum(_fork_map(lambda ps: [self._series_part(sp, w, ys[p], frames[p], chunk) for p in ps], per), [])
            parts = sum(per, [])
        else:
            outs = [self._series_part(sp, w, ys[p], frames[p], chunk) for p in parts]
        for p, (cols, angle, sn, b, comp, cost) in zip(parts, outs):
            out = frames[p[cols]]
            res["angle"][out], res["sn"][out], res["b"][out], res["comp"][out], res["cost"][out] = (
                angle, sn, b, comp, cost)
            solved[p[cols]] = True
        return solved

    def _series_part(self, sp, w, y, fr, chunk):
        """:meth:`_series_search` of frames ``fr`` (2D ``y``) with the series ``sp``: the frames it solves (indices
        into ``y``) and their angles, scales, coefficients b, components and costs."""
        K, A, P = self.model.num_components, self.num_angles, self.P
        nu = self.nu
        lo, hi = self.scale_bounds
        h = np.pi / A  # half a grid step
        w2 = np.repeat(w, 2)
        logdet = self.log_prior_det + np.count_nonzero(w > 0) * np.log(nu)  # (K,)
        m = len(y)
        best, c_at, gain, yy = np.empty((m, K), np.int64), np.empty((m, K)), np.empty((m, K)), np.empty(m)
        for start in range(0, m, chunk):
            c = slice(start, start + chunk)
            _, yy[c], b, ca, ga, _ = self._rank(sp, y[c], fr[c], w2)
            best[c], c_at[c], gain[c] = b[..., 0], ca[..., 0], ga[..., 0]
        index = series.packed_index(2 * skeleton.NUM_JOINTS)
        # candidates: what the continuous minimum can gain over the best grid angle is bounded by the larger
        # neighbour's excess (and float32's resolution of the grid's sums)
        grid_score = 0.5 * c_at + logdet
        pn, pk = np.nonzero(grid_score - 0.5 * gain <= grid_score.min(1, keepdims=True))
        pa = best[pn, pk]
        d = np.empty(len(pk))
        f = np.empty(len(pk))
        scoef = np.empty((len(pk), sp.order + 1))
        redo = np.arange(len(pk))
        for move in range(3):
            coef = np.empty((len(redo), sp.order + 1))
            for g, k, a in _blocks(pk[redo], pa[redo], A):
                yr = y[pn[redo[g]]]
                coef[g] = series.packed_outer(yr, index) @ sp.G[k, a]
                scoef[redo[g]] = yr @ sp.S[k, a]
            prior = None
            if self._prior_angle is not None:
                prior = (self.angles[pa[redo]], self._prior_angle[0][fr[pn[redo]]], self._prior_angle[1])
            dr, fr_, edge = series.minimise(coef, yy[pn[redo]] / nu[pk[redo]], h, prior)
            if move:  # keep a moved pair's result only where it is better
                better = fr_ < f[redo]
                dr, fr_, edge = (np.where(better, dr, d[redo]), np.where(better, fr_, f[redo]),
                                 np.where(better, edge, 0))
            d[redo], f[redo] = dr, fr_
            if move == 2 or not np.any(edge):
                break
            # on the edge: the neighbouring angle's series covers the next half step; its own best sample
            # brackets the minimum there
            e = edge != 0
            pa[redo[e]] = (pa[redo[e]] + edge[e]) % A
            d[redo[e]] -= edge[e] * 2 * h
            redo = redo[e]
        s = series.evaluate(scoef, d)
        inside = (s >= lo) & (s <= hi) & np.isfinite(f)
        score = np.full((K, m), np.inf)
        score[pk, pn] = 0.5 * f + logdet[pk]
        score_in = np.full((K, m), np.inf)
        score_in[pk[inside], pn[inside]] = score[pk[inside], pn[inside]]
        best_in = score_in.min(0)
        # a pair outside the bounds has a bounded profile >= its unbounded one: it cannot win where that is
        # already worse than the best pair inside; elsewhere the frame goes to the factorising search
        out_ok = np.ones((K, m), bool)
        out_ok[pk[~inside], pn[~inside]] = score[pk[~inside], pn[~inside]] >= best_in[pn[~inside]]
        cols = np.flatnonzero(out_ok.all(0) & np.isfinite(best_in))
        kw = np.argmin(score_in, axis=0)[cols]
        pair = np.full((K, m), -1)
        pair[pk, pn] = np.arange(len(pk))
        pw = pair[kw, cols]  # the winning pairs
        x = np.empty((len(cols), P))
        for g, k, a in _blocks(pk[pw], pa[pw], A):
            terms = (y[cols[g]] @ sp.F[k, a]).reshape(len(g), P, sp.order + 1)
            x[g] = np.einsum("npj,nj->np", terms, series.powers(d[pw[g]], sp.order))
        return cols, np.mod(self.angles[pa[pw]] + d[pw], 2 * np.pi), x[:, 0], x[:, 1:], kw, f[pw]

    # ---- the exact profile over the angle ------------------------------------------------------------------------
    # Per-frame arrays here keep the frame last (``(..., m)``): the small factorisations below then run as a few
    # dozen vectorised operations on contiguous rows, much faster than one LAPACK call per 25 x 25 matrix.
    def _pieces(self, w, y, k, shared=False):
        """Per-frame normal equations in pieces, from per-joint blocks: weights ``w (m, L)``, 2D ``y (m, 2L)`` centred
        with those weights, components ``k (m,)``. With ``D(theta) = cos A + sin B + Y`` (weighted-centred):
        ``quad (5, T, m)`` the lower triangles (``T = P (P + 1) / 2``) of the five harmonics (:data:`_HARMONICS`),
        ``lin (3, P, m)`` = ``(A'Wy, B'Wy, Y'Wy)``, ``yy (m,)`` = ``y'Wy``; ``k``; ``shared``; and ``sums``. With
        ``shared``, every row of ``w`` is the same and ``quad`` is that row's ``(K, 5, T)`` for every component,
        centred (``sums`` None); otherwise ``quad`` is not centred and ``sums (3, P, 2, m)``, the weighted sums of the
        parts over the joints divided by ``sqrt(sum w)``, give the centring at each angle: minus ``m m'`` per coordinate
        with ``m = cos sums_A + sin sums_B + sums_Y`` (a rank-2 update: cheaper per angle than centring the six
        products)."""
        m, L = w.shape
        if shared:
            wy = (y.reshape(m, L, 2) * w[..., None]).reshape(m, 2 * L)
            quad = self._quad(w[:1])
            lin = np.einsum("krq,nr->kqn", self._flat_parts, wy)  # (K, 3P, m)
            lin = lin[k, :, np.arange(m)].T.reshape(3, self.P, m)
            return quad, lin, np.einsum("nr,nr->n", wy, y), k, True, None
        P = self.P
        ti, tj = self._tril
        wy = (y.reshape(m, L, 2) * w[..., None]).reshape(m, 2 * L)
        comps = np.unique(k)
        quad = None if len(comps) == 1 else np.empty((len(_HARMONICS), len(ti), m))
        lin = np.empty((3, P, m))
        sums = np.empty((3, P, 2, m))
        for comp in comps:
            sel = np.flatnonzero(k == comp)
            q, sums[..., sel] = self._quad(w[sel], comp, centre=False)
            if quad is None:
                quad = q
            else:
                quad[..., sel] = q
            lin[..., sel] = (self._flat_parts[comp].T @ wy[sel].T).reshape(3, P, -1)
        return quad, lin, np.einsum("nr,nr->n", wy, y), k, False, sums

    def _quad(self, w, comp=None, centre=True):
        """Lower triangles of the five weighted-centred harmonics for weights ``w (n, L)``: ``(5, T, n)`` for one
        component, or ``(K, 5, T)`` for every component and the one row ``w (1, L)``. Not ``centre``: the products
        without centring and the weighted sums ``(3, P, 2, n)`` that centre them (see :meth:`_pieces`)."""
        P = self.P
        ti, tj = self._tril
        if comp is None:
            return np.stack([self._quad(w, c)[..., 0] for c in range(self.model.num_components)])
        wt = np.ascontiguousarray(w.T)  # (L, n)
        q = (self._joint_blocks[comp].T @ wt).reshape(len(_HARMONICS), len(ti), -1)
        wm = (self._joint_parts[comp].T @ wt).reshape(3 * P, 2, -1) / np.sqrt(w.sum(1))  # weighted sums
        if not centre:
            return q, wm.reshape(3, P, 2, -1)
        # centring: minus (sum w U)(sum w V)' / sum w, every pair from one outer product of the weighted sums
        outer = np.einsum("icn,jcn->ijn", wm, wm).reshape(9 * P * P, -1)
        pairs = outer[self._centre_idx]
        pairs[self._centre_sym] += outer[self._centre_idx_t[self._centre_sym]]
        return q - np.einsum("hp,ptn->htn", _HARMONICS, pairs)

    @staticmethod
    def _take(pieces, r):
        quad, lin, yy, k, shared, sums = pieces
        return ((quad, lin[..., r], yy[r], k[r], True, None) if shared
                else (quad[..., r], lin[..., r], yy[r], k[r], False, sums[..., r]))

    @staticmethod
    def _combine(coef, quad, k, shared):
        """``sum_t coef[t] quad_t``: ``(T, m)`` from per-frame ``quad (5, T, m)`` or shared ``(K, 5, T)``; ``coef (5,
        m)``, or ``(4, m)``: without the constant harmonic (the derivatives)."""
        if coef.shape[0] < quad.shape[-2 if shared else 0]:
            quad = quad[:, 1:] if shared else quad[1:]
        if shared:  # frames come sorted by component: one small matrix product per run of a component
            out = np.empty((quad.shape[-1], len(k)))
            cuts = [0, *(np.flatnonzero(np.diff(k)) + 1), len(k)]
            for a, b in zip(cuts[:-1], cuts[1:]):
                out[:, a:b] = quad[k[a]].T @ coef[:, a:b]
            return out
        return np.einsum("tim,tm->im", quad, coef)  # one pass over quad (a loop of products is 3x slower)

    def _eval(self, theta, pieces, derivs=False):
        """The profile at per-frame angles ``theta (m,)``: the cost with the scale bound, the bounded solution
        ``(m, P)`` and the unbounded scale; with ``derivs`` also the first two derivatives of the unbounded cost
        (``f' = -2 u'.x + x.N'x``, ``f'' = -2 u''.x - 2 g.N^-1 g + x.N''x`` with ``g = u' - N'x``) and of the unbounded
        solution, ``x' = N^-1 g`` ``(m, P)``."""
        quad, lin, yy, k, shared, sums = pieces
        coef, d1, d2 = _trig(theta)
        nu = self.nu[k]
        ti, tj = self._tril
        N = self._combine(coef, quad, k, shared)  # packed
        c, s = coef[3], coef[4]
        if sums is not None:  # centring: minus m m' per coordinate
            mv = c * sums[0] + s * sums[1] + sums[2]  # (P, 2, m)
            _subtract_outer(N, mv)
        N /= nu
        N[self._diag] += self.prior[k].T
        u = (c * lin[0] + s * lin[1] + lin[2]) / nu
        L = _cholesky(N)
        h = _forward(L, u)
        x = _backward(L, h)
        f = yy / nu - np.einsum("pm,pm->m", h, h)
        xb = x.T.copy()
        lb, ub = self.scale_bounds
        o = np.flatnonzero(~((x[0] >= lb) & (x[0] <= ub)))  # the scale held at a bound: N^-1 e_0 needed
        if o.size:
            Lo = L[..., o]
            e0 = np.zeros((self.P, o.size))
            e0[0] = 1.0
            h0 = _forward(Lo, e0)
            v0 = np.einsum("pm,pm->m", h0, h0)
            f[o] += self._bound_penalty(x[0, o], v0)
            xb[o] = self._bound_solution(xb[o], _backward(Lo, h0).T, v0)
        out = (f, xb, x[0])
        if not derivs:
            return out
        N1 = self._combine(d1, quad, k, shared)[self._unpack].reshape(self.P, self.P, -1)
        N1x = np.einsum("ijm,jm->im", N1, x)
        xx = x[ti] * x[tj]
        xx *= self._tril_twice[:, None]
        xN2x = np.einsum("im,im->m", self._combine(d2, quad, k, shared), xx)
        if sums is not None:  # (m m')' = m1 m' + m m1', (m m')'' = m2 m' + 2 m1 m1' + m m2'
            m1 = c * sums[1] - s * sums[0]
            m2 = -c * sums[0] - s * sums[1]
            mx, m1x, m2x = (np.einsum("pcm,pm->cm", v, x) for v in (mv, m1, m2))
            N1x -= np.einsum("pcm,cm->pm", m1, mx) + np.einsum("pcm,cm->pm", mv, m1x)
            xN2x -= 2 * np.einsum("cm,cm->m", m1x, m1x) + 2 * np.einsum("cm,cm->m", mx, m2x)
        N1x /= nu
        xN2x /= nu
        u1 = (c * lin[1] - s * lin[0]) / nu
        u2 = -(c * lin[0] + s * lin[1]) / nu
        hg = _forward(L, u1 - N1x)
        f1 = -2 * np.einsum("pm,pm->m", u1, x) + np.einsum("pm,pm->m", x, N1x)
        f2 = -2 * np.einsum("pm,pm->m", u2, x) - 2 * np.einsum("pm,pm->m", hg, hg) + xN2x
        return out + (f1, f2, _backward(L, hg).T)

    def _exact_search(self, theta0, half, pieces, start=None, frames=None, iters=12, tol=1e-7, last_step=5e-4,
                      moves=2):
        """Minimum of the profile cost (plus the angle prior of ``frames``, if any) in ``[theta0 - half, theta0 +
        half]``: Newton steps from ``start`` (a downhill step where the profile is not convex), kept inside the bracket,
        until the next step would be below ``tol`` (Newton converges quadratically: the point is then ~tol^2 from the
        minimum), or is a Newton step inside the bracket below ``last_step``, which is then taken without another
        evaluation: angle + step, solution + step x', cost + f' step + f'' step^2 / 2 (the angle's error is then
        ~step^2, the solution's and the cost's ~step^2 and ~step^3 relative); frames that do not converge or have
        their scale on a bound are searched by golden section instead; a frame that ends on the bracket's edge (its
        derivative pointing out) is searched again in a bracket centred there (``moves`` times at most), so the search
        is not confined to the grid angle's neighbourhood. Returns angle, solution, cost."""
        m = len(theta0)
        lo, hi = theta0 - half, theta0 + half
        t = (theta0 if start is None else np.clip(start, lo, hi)).copy()
        cost, x, s_free = np.empty(m), np.empty((m, self.P)), np.empty(m)
        done = np.zeros(m, bool)
        predicted = np.zeros(m, bool)  # the last step taken without an evaluation
        lb, ub = self.scale_bounds
        E, sub = np.arange(m), pieces  # the frames evaluated (a superset of those not done)
        for _ in range(iters):
            c, xe, se, f1, f2, dx = self._eval(t[E], sub, derivs=True)
            if frames is not None and self._prior_angle is not None:
                p0, p1, p2 = self._angle_terms(t[E], frames[E])
                c, f1, f2 = c + p0, f1 + p1, f2 + p2
            upd = ~done[E]
            cost[E[upd]], x[E[upd]], s_free[E[upd]] = c[upd], xe[upd], se[upd]
            newton = f2 > 0
            step = np.where(newton, -f1 / np.where(newton, f2, 1.0), -np.sign(f1) * half / 4)
            tn = np.clip(t[E] + step, lo[E], hi[E])
            conv = np.abs(tn - t[E]) <= tol
            last = upd & ~conv & newton & (tn == t[E] + step) & (np.abs(step) <= last_step)
            last &= (se >= lb) & (se <= ub)  # f' and f'' are the free profile's: at a bound golden section decides
            if last.any():
                i, st = E[last], step[last]
                predicted[i] = True
                cost[i] += f1[last] * st + 0.5 * f2[last] * st * st
                x[i] += st[:, None] * dx[last]
                s_free[i] += st * dx[last, 0]
            done[E[upd & (conv | last)]] = True
            mv = upd & ~conv
            t[E[mv]] = tn[mv]
            if done.all():
                break
            if (~done[E]).mean() < 0.5:  # gather only when most frames are done
                E = np.flatnonzero(~done)
                sub = self._take(pieces, E)
        redo = ~done | (s_free < lb) | (s_free > ub) | ~np.isfinite(cost)
        if np.any(redo):
            r = np.flatnonzero(redo)
            p = r[predicted[r]]  # the scale crossed a bound in the last step: golden section starts from the truth
            if p.size:
                c, x[p], _ = self._eval(t[p], self._take(pieces, p))
                cost[p] = c + self._angle_cost(t[p], None if frames is None else frames[p])
            t[r], x[r], cost[r] = self._golden(lo[r], hi[r], self._take(pieces, r), t[r], x[r], cost[r],
                                               None if frames is None else frames[r])
        edge = np.flatnonzero((t - lo < 1e-9) | (hi - t < 1e-9))  # Newton's or golden section's
        if moves and edge.size:
            te, xe, ce = self._exact_search(t[edge], half, self._take(pieces, edge), start=t[edge],
                                            frames=None if frames is None else frames[edge], iters=iters, tol=tol,
                                            last_step=last_step, moves=moves - 1)
            better = edge[ce < cost[edge]]
            keep = ce < cost[edge]
            t[better], x[better], cost[better] = te[keep], xe[keep], ce[keep]
        return t, x, cost

    def _golden(self, a, b, pieces, theta, x, cost, frames=None, iters=45, tol=1e-10):
        """Golden-section search of the profile cost (scale bound and the angle prior of ``frames`` included) on
        ``[a, b]``; the best point seen (starting with ``theta, x, cost``) is kept, so the cost never increases."""
        def profile(t):
            c, xs = self._eval(t, pieces)[:2]
            return c + self._angle_terms(t, frames)[0], xs

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
            component=np.where(ok, res["comp"], -1), residual=np.where(ok, residual, np.nan),
            cost=np.where(ok, res["cost"], np.nan),
            reprojected=reproj, status=status, scale_relative=np.where(ok, sn, np.nan),
            scale_at_bound=ok & ((sn <= self.scale_bounds[0] * (1 + 1e-9)) | (sn >= self.scale_bounds[1] * (1 - 1e-9))),
        )
        return out


def _basins(cost, basins):
    """The ``basins`` lowest local minima of ``cost (..., A)`` over the circle of its last axis, lowest first: their
    indices ``(..., basins)``, -1 where there are fewer (basin 0 is always the lowest angle)."""
    lowest = np.argmin(cost, axis=-1)
    out = np.full(cost.shape[:-1] + (basins,), -1)
    out[..., 0] = lowest
    if basins > 1:
        left, right = np.roll(cost, 1, axis=-1), np.roll(cost, -1, axis=-1)
        minima = np.where((cost < left) & (cost <= right), cost, np.inf)
        np.put_along_axis(minima, lowest[..., None], np.inf, axis=-1)
        for b in range(1, basins):
            nxt = np.argmin(minima, axis=-1)
            ok = np.isfinite(np.take_along_axis(minima, nxt[..., None], -1)[..., 0])
            out[..., b] = np.where(ok, nxt, -1)
            np.put_along_axis(minima, nxt[..., None], np.inf, axis=-1)
    return out


#: what a forked worker of :func:`_fork_map` reads: (function, items), set in the worker by its initializer (the arrays
#: are the parent's, copy-on-write, not pickled)
_FORKED = None


def _set_forked(state):
    global _FORKED
    _FORKED = state


def _forked_call(i):
    fn, items = _FORKED
    return fn(items[i])


def _fork_map(fn, items):
    """``[fn(item) for item in items]``: the first item in this process, the others meanwhile in as many forked
    processes (the caller checks :func:`_can_fork`), BLAS on one thread in every process (its waiting threads would
    spin for the cores); only the results are pickled. A worker that dies is a RuntimeError, not a hang."""
    if len(items) <= 1:
        return [fn(item) for item in items]
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    from threadpoolctl import threadpool_limits

    try:
        with threadpool_limits(limits=1, user_api="blas"), ProcessPoolExecutor(
                len(items) - 1, mp_context=multiprocessing.get_context("fork"), initializer=_set_forked,
                initargs=((fn, items),)) as pool:
            pending = [pool.submit(_forked_call, i) for i in range(1, len(items))]
            return [fn(items[0])] + [f.result() for f in pending]
    except BrokenProcessPool as e:
        raise RuntimeError(f"a worker process of the lift died ({e}); out of memory? Lifter(workers=1) solves every "
                           "frame in this process") from None


def _can_fork():
    """Linux with fork, threadpoolctl, a process with no other thread, and not a daemonic process (which may not have
    children). A fork copies the locks other threads hold, and a child waiting on one never finishes (two lifts in
    two threads hung that way); macOS's fork is unsafe with its system libraries. Otherwise the lift runs in its own
    process."""
    try:
        import threadpoolctl  # noqa: F401 (without it OpenBLAS's waiting threads make the workers slower than none)
    except ImportError:
        return False
    return (sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods()
            and threading.active_count() == 1 and not multiprocessing.current_process().daemon)


def _share(runs, workers):
    """``runs`` (``(indices, shared)``) in at most ``workers`` groups of consecutive runs with about as many pairs
    each."""
    if workers <= 1 or len(runs) < 2:
        return [runs]
    sizes = np.cumsum([len(s) for s, _ in runs])
    cuts = np.minimum(np.searchsorted(sizes, sizes[-1] * np.arange(1, workers) / workers) + 1, len(runs))
    groups = [runs[a:b] for a, b in zip([0, *cuts], [*cuts, len(runs)])]
    return [g for g in groups if g]


#: up to this many frames the small factorisations go to LAPACK one matrix at a time (fewer Python-level steps)
_FEW = 24


def _cholesky(N):
    """Lower Cholesky factor ``(P, P, m)`` of symmetric positive definite matrices given as their lower triangles
    packed column by column, ``N (P (P + 1) / 2, m)`` (frames last), computed column by column."""
    m = N.shape[-1]
    P = int(round((np.sqrt(8 * N.shape[0] + 1) - 1) / 2))
    if m <= _FEW:
        ti, tj = _packed_pairs(P)
        full = np.zeros((m, P, P))
        full[:, ti, tj] = N.T
        full[:, tj, ti] = N.T
        with np.errstate(invalid="ignore"):
            try:
                return np.linalg.cholesky(full).transpose(1, 2, 0)
            except np.linalg.LinAlgError:
                pass  # a matrix not positive definite: the column-wise version gives NaN for it alone
    L = np.zeros((P, P, m))
    off = 0
    for j in range(P):
        # column j from the diagonal down in one product (its first row is the diagonal's L_jj^2)
        col = N[off:off + P - j] - np.einsum("ikm,km->im", L[j:, :j], L[j, :j]) if j else N[:P].copy()
        col /= np.sqrt(col[0])
        L[j:, j] = col
        off += P - j
    return L


def _small_inverses(S, largest):
    """The inverses of the symmetric positive semi-definite ``S (..., n, n)``; NaN for a matrix that is singular or
    whose inverse has a diagonal entry that is not positive or an entry beyond ``largest`` (near singular)."""
    try:
        inv = np.linalg.inv(S)
    except np.linalg.LinAlgError:  # one at a time (rare: a row that leaves the scale undetermined)
        inv = np.full(S.shape, np.nan)
        for i in np.ndindex(S.shape[:-2]):
            try:
                inv[i] = np.linalg.inv(S[i])
            except np.linalg.LinAlgError:
                pass
    with np.errstate(invalid="ignore"):
        ok = (np.diagonal(inv, axis1=-2, axis2=-1) > 0).all(-1) & (np.abs(inv).max(axis=(-2, -1)) <= largest)
    inv[~ok] = np.nan
    return inv


def _subtract_outer(N, V):
    """``N -= sum_c V[:, c] V[:, c]'`` in place, for ``N`` packed column by column ``(P (P + 1) / 2, m)`` and ``V (P,
    C, m)``: column by column, no gathered copies."""
    P = len(V)
    if N.shape[-1] <= _FEW:  # a few frames: one product and one gather (fewer Python-level steps)
        N -= np.einsum("icm,jcm->ijm", V, V)[_packed_pairs(P)]
        return
    off = 0
    for j in range(P):
        N[off:off + P - j] -= np.einsum("icm,cm->im", V[j:], V[j])
        off += P - j


@functools.lru_cache(maxsize=4)
def _packed_pairs(P):
    """Rows and columns ``(i, j)`` of a ``P x P`` lower triangle in the order it is packed: column by column (column
    j's rows j..P-1 contiguous), the layout of every packed matrix here."""
    tj, ti = np.triu_indices(P)  # (j, i >= j), row-major over j
    return ti, tj


def _forward(L, b):
    """``L^-1 b`` for lower-triangular ``L (P, P, m)`` and ``b (P, m)``."""
    if b.shape[-1] <= _FEW:
        return np.linalg.solve(L.transpose(2, 0, 1), b.T[..., None])[..., 0].T
    z = np.empty_like(b)
    for j in range(len(b)):
        z[j] = (b[j] - np.einsum("km,km->m", L[j, :j], z[:j])) / L[j, j]
    return z


def _backward(L, z):
    """``L^-T z`` for lower-triangular ``L (P, P, m)`` and ``z (P, m)``."""
    if z.shape[-1] <= _FEW:
        return np.linalg.solve(L.transpose(2, 1, 0), z.T[..., None])[..., 0].T
    x = np.empty_like(z)
    for j in range(len(z) - 1, -1, -1):
        x[j] = (z[j] - np.einsum("km,km->m", L[j + 1:, j], x[j + 1:])) / L[j, j]
    return x


class _NoSeries(NamedTuple):
    """The cache's entry for a weight row whose angle series does not converge (or would not fit)."""
    nbytes: int = 0


_NO_SERIES = _NoSeries()


def _blocks(k, a, A):
    """The pairs of each (component, angle): yields ``(indices into k, component, angle)``."""
    for g in group_codes(k * A + a):
        if len(g):
            yield g, k[g[0]], a[g[0]]


def group_rows(w):
    """Group identical rows of ``w (N, D)``: yields ``(row, indices)``; fast paths for one row and 0/1 values."""
    if np.all(w == w[0]):
        yield w[0], np.arange(len(w))
        return
    if np.all((w == 0) | (w == 1)):
        codes = visibility_codes(w > 0)
    else:
        _, codes = np.unique(w, axis=0, return_inverse=True)
        codes = codes.reshape(-1)
    for group in group_codes(codes):
        yield w[group[0]], group


def visibility_codes(vis):
    """One integer a row of the boolean ``vis (N, L)`` (its bits; L <= 62)."""
    return vis @ (1 << np.arange(vis.shape[1], dtype=np.int64))


def group_codes(codes):
    """The indices of each value of the integers ``codes (N,)``, one array per value (in increasing order)."""
    order = np.argsort(codes, kind="stable")
    return np.split(order, np.flatnonzero(np.diff(codes[order])) + 1)


def lift(points2d, model: PoseModel, weights=None, **kwargs) -> LiftResult:
    """One-shot convenience wrapper: ``Lifter(model, **kwargs).lift(points2d, weights)``."""
    strict = kwargs.pop("strict", False)
    return Lifter(model, **kwargs).lift(points2d, weights, strict=strict)
