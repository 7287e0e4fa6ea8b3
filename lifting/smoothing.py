"""Temporal filtering of per-frame estimates: the One Euro filter (Casiez, Roussel, Vogel, CHI 2012) on 2D joints,
and the continuity of the ground-plane angle between consecutive frames of one person.

One Euro: an exponential smoother whose cut-off frequency rises with the signal's speed,
``fc = min_cutoff + beta |dx/dt|`` (the speed itself low-passed at ``d_cutoff``), with the smoothing factor
``alpha = 1 / (1 + 1 / (2 pi fc dt))``. Slow signals are smoothed hard (little jitter), fast ones barely (little
lag). Every coordinate is filtered on its own; a missing value (NaN) passes through as NaN and restarts that
coordinate's filter, so a joint that reappears is not pulled towards where it was long ago.

Angle continuity: the weak-perspective lift has a near-symmetric twin solution (the pose turned about the vertical
axis and mirrored in depth explains almost the same 2D), so a per-frame lift can flip the facing by 90-180 degrees
between two frames whose 2D hardly differ. :func:`angle_penalty` is the cost added to the lift for an angle far
from the previous frame's (:class:`lifting.lift.Lifter` ``angle_prior``), :func:`facing` and
:func:`facing_flips` measure it.
"""
from __future__ import annotations

import numpy as np

#: One Euro defaults for 2D joints in pixels at video rates (min_cutoff Hz, beta per px/s, d_cutoff Hz); chosen on
#: the CMU test sequences (scripts/measure_steadiness.py: of min_cutoff 1 / 0.5 / 0.3 and beta 0.05 / 0.01 / 0.005,
#: 0.5 and 0.01 cut the jitter most without raising the 3D error)
DEFAULT_MIN_CUTOFF = 0.5
DEFAULT_BETA = 0.01
DEFAULT_D_CUTOFF = 1.0
#: weight of the angle-continuity term (in the lift's normalised cost units, times 1 - cos of the angle change);
#: on the CMU sequences with the upright camera 4 left 7 facing flips of 24, 20 none (scripts/measure_steadiness.py,
#: with the grid lifter of the time; with the exact-optimum search: 25 -> 0)
DEFAULT_ANGLE_WEIGHT = 20.0


def _alpha(cutoff, dt):
    tau = 1.0 / (2 * np.pi * cutoff)
    return 1.0 / (1.0 + tau / dt)


class OneEuroFilter:
    """One Euro filter over arrays of any fixed shape (e.g. ``(17, 2)``), one call per frame."""

    def __init__(self, min_cutoff=DEFAULT_MIN_CUTOFF, beta=DEFAULT_BETA, d_cutoff=DEFAULT_D_CUTOFF):
        if not (min_cutoff > 0 and beta >= 0 and d_cutoff > 0):
            raise ValueError(f"One Euro parameters must be min_cutoff > 0, beta >= 0, d_cutoff > 0, got "
                             f"{min_cutoff}, {beta}, {d_cutoff}")
        self.min_cutoff, self.beta, self.d_cutoff = float(min_cutoff), float(beta), float(d_cutoff)
        self.x = None
        self.dx = None
        self.t = None

    def reset(self):
        self.x = self.dx = self.t = None

    def __call__(self, x, t):
        """Filter the sample ``x`` taken at time ``t`` (seconds, increasing); returns the filtered array."""
        x = np.asarray(x, np.float64)
        if self.x is None or self.x.shape != x.shape:
            self.x, self.dx, self.t = x.copy(), np.zeros_like(x), float(t)
            return x.copy()
        dt = float(t) - self.t
        if not dt > 0:
            raise ValueError(f"One Euro filter: times must increase, got {t} after {self.t}")
        fresh = ~np.isfinite(self.x)  # restarted coordinates: take the sample as it is
        dx = np.where(fresh, 0.0, (x - self.x) / dt)
        a_d = _alpha(self.d_cutoff, dt)
        dx_hat = np.where(np.isfinite(dx), a_d * dx + (1 - a_d) * self.dx, 0.0)
        cutoff = self.min_cutoff + self.beta * np.abs(dx_hat)
        a = _alpha(cutoff, dt)
        out = np.where(fresh, x, a * x + (1 - a) * self.x)
        self.x, self.dx, self.t = out, np.where(np.isfinite(x), dx_hat, 0.0), float(t)
        return out.copy()


def one_euro(series, times, **kwargs):
    """Filter a whole series ``(T, ...)`` sampled at ``times (T,)``; returns ``(T, ...)``."""
    f = OneEuroFilter(**kwargs)
    return np.stack([f(x, t) for x, t in zip(np.asarray(series, np.float64), times)])


def wrap_angle(a):
    """Angles to (-pi, pi]."""
    return np.angle(np.exp(1j * np.asarray(a, np.float64)))


def angle_penalty(theta, previous, weight=DEFAULT_ANGLE_WEIGHT):
    """``weight (1 - cos(theta - previous))``: 0 for the same angle, ``2 weight`` for the opposite facing; 0 where
    ``previous`` is NaN (no previous frame). Broadcasts."""
    d = np.asarray(theta, np.float64) - np.asarray(previous, np.float64)
    return np.where(np.isfinite(d), weight * (1.0 - np.cos(np.nan_to_num(d))), 0.0)


def angle_penalty_terms(theta, previous, weight=DEFAULT_ANGLE_WEIGHT):
    """:func:`angle_penalty` and its first and second derivatives in ``theta`` (0 where ``previous`` is NaN)."""
    d = np.asarray(theta, np.float64) - np.asarray(previous, np.float64)
    finite = np.isfinite(d)
    d = np.nan_to_num(d)
    wv = np.where(finite, weight, 0.0)
    return wv * (1.0 - np.cos(d)), wv * np.sin(d), wv * np.cos(d)


def facing(poses):
    """Facing direction of y-up poses ``(N, 17, 3)`` on the ground plane, radians: the direction of
    ``(LHip - RHip) x up`` projected on x-z (the way the pelvis faces: a person facing +z has the left hip at +x),
    ``atan2(x, z)``."""
    from .skeleton import JOINT_INDEX

    p = np.asarray(poses, np.float64)
    left = p[:, JOINT_INDEX["LHip"]] - p[:, JOINT_INDEX["RHip"]]
    fwd = np.cross(left, np.array([0.0, 1.0, 0.0]))
    return np.arctan2(fwd[:, 0], fwd[:, 2])


def facing_flips(poses, degrees=90.0):
    """Count of consecutive frames whose facing (:func:`facing`) changes by more than ``degrees``; frames with NaN
    are skipped (a pair counts only when both are finite)."""
    f = facing(poses)
    d = np.abs(wrap_angle(np.diff(f)))
    return int(np.count_nonzero(np.isfinite(d) & (d > np.radians(degrees))))


def mean_displacement(poses):
    """Mean frame-to-frame joint displacement of ``(N, 17, D)`` (NaN frames skipped): the jitter measure."""
    d = np.linalg.norm(np.diff(np.asarray(poses, np.float64), axis=0), axis=-1)
    return float(np.nanmean(d))
