"""The fitting pipeline: pre-processing, alignment (sec. 4.1), mixture (sec. 4.2), checkpoints, report, figure.

A fit is a deterministic function of the data and :class:`FitConfig`; its state is written (atomically) to a
checkpoint after every outer iteration, and a run started with the same data, config and checkpoint path resumes
from it and ends with the same model as an uninterrupted run.
"""
from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import asdict, dataclass

import numpy as np
from scipy.special import logsumexp

from lifting import skeleton
from lifting.files import atomic_savez, atomic_write_json
from lifting.geometry import normalise_poses
from lifting.model import PoseModel

from . import align, mixture
from .ppca import PPCAComponent, moments, ppca_from_moments


@dataclass
class FitConfig:
    """Fitting parameters (all explicit; stored in the model's provenance and the report)."""

    num_basis: int = 16  #: J
    max_components: int = 3  #: K upper bound; the seeding rule may choose fewer
    inner_iterations: int = 2  #: PPCA + rotation alternations per basis size below J
    final_iterations: int = 30  #: alternations at the full basis size J (at most)
    align_tol: float = 1e-6  #: stop those when eq. (1) falls by less than this (relative) in one alternation
    rotation_solver: str = "closed-form"  #: "closed-form" or "ceres"
    em_iterations: int = 40
    em_tol: float = 1e-7  #: stop EM when the relative log-likelihood gain is below this
    seed_subsample: int = 2000  #: poses used to choose the cluster seeds (eq. 3)
    min_separation: float | None = None  #: "too close" distance for seeds; None = half the median distance
    mirror: bool = True  #: add the x-mirrored, left/right-swapped copy of every pose
    seed: int = 0

    def validate(self):
        if self.num_basis < 1 or self.num_basis > 47:
            raise ValueError(f"num_basis must be in 1..47, got {self.num_basis}")
        if self.max_components < 1:
            raise ValueError(f"max_components must be >= 1, got {self.max_components}")
        if self.rotation_solver not in align.ROTATION_SOLVERS:
            raise ValueError(f"rotation_solver must be one of {sorted(align.ROTATION_SOLVERS)}, "
                             f"got {self.rotation_solver!r}")


def preprocess(poses_mm, mirror=True):
    """Sec. 4 pre-processing of ``(N, 17, 3)`` y-up poses in mm: root-centre, unit limb scale, mirror.

    Returns ``(normalised (M, 17, 3), mm_per_unit)`` with M = 2N when mirroring.
    """
    poses_mm = np.asarray(poses_mm, np.float64)
    if poses_mm.ndim != 3 or poses_mm.shape[1:] != (skeleton.NUM_JOINTS, 3):
        raise ValueError(f"poses must have shape (N, 17, 3), got {poses_mm.shape}")
    if len(poses_mm) == 0:
        raise ValueError("no poses to fit")
    bad = ~np.isfinite(poses_mm).all(axis=(1, 2))
    if bad.any():
        raise ValueError(f"{int(bad.sum())} poses hold NaN or inf (first: index {int(np.flatnonzero(bad)[0])})")
    norm, scale = normalise_poses(poses_mm)
    if mirror:
        norm = np.concatenate([norm, skeleton.flip_lr(norm)])
    return norm, float(np.mean(scale))


def _fingerprint(P, config):
    h = hashlib.sha256(np.ascontiguousarray(P).view(np.uint8))
    h.update(json.dumps(asdict(config), sort_keys=True).encode())
    return h.hexdigest()[:32]


def _schedule(config):
    """Outer alignment iterations: (basis size, inner index); the last ``final_iterations`` stop early on align_tol."""
    return ([(j, i) for j in range(1, config.num_basis) for i in range(config.inner_iterations)]
            + [(config.num_basis, i) for i in range(config.final_iterations)])


def _align_converged(obj_log, step, schedule, tol):
    """True when the last alternation at the full basis size lowered the objective by less than tol (relative)."""
    if step < 2 or schedule[step - 1][0] != schedule[-1][0] or schedule[step - 2][0] != schedule[-1][0]:
        return False
    prev, last = obj_log[-3], obj_log[-1]  # objective after the previous and the last rotation updates
    return prev - last <= tol * abs(last)


def enough_poses(count, num_basis):
    """Whether ``count`` poses determine a PPCA with ``num_basis`` (J) basis poses: it takes J + 1 (a mean and J
    directions of variation about it)."""
    return count >= num_basis + 1


def underdetermined_components(component_sizes, num_basis):
    """{component: poses it holds} of the components with fewer than J + 1 poses (:func:`enough_poses`)."""
    return {k: int(n) for k, n in enumerate(component_sizes) if not enough_poses(n, num_basis)}


def _pack_components(comps):
    return {"mix_mu": np.stack([c.mu for c in comps]), "mix_U": np.stack([c.U for c in comps]),
            "mix_lam": np.stack([c.lam for c in comps]), "mix_s2": np.array([c.s2 for c in comps])}


def _unpack_components(z):
    return [PPCAComponent(z["mix_mu"][k], z["mix_U"][k], z["mix_lam"][k], float(z["mix_s2"][k]))
            for k in range(len(z["mix_s2"]))]


def fit(poses_mm, config: FitConfig, checkpoint=None, progress=True, log=print):
    """Fit a pose model to ``poses_mm (N, 17, 3)`` (y up, millimetres): pre-processing, alignment, mixture.

    Args:
        checkpoint: path of the checkpoint (.npz), written after every outer iteration; resumed from when it exists
            and matches data and config.
        progress: tqdm bars; log: where messages go (print).

    Returns ``(PoseModel, report dict, extras)`` with extras ``{"aligned": (M, 48) rotated-back poses, "labels": (M,)
    component of each}`` (M = 2N with mirroring).
    """
    config.validate()
    t0 = time.perf_counter()
    norm, mm_per_unit = preprocess(poses_mm, config.mirror)
    P = align.to_vectors(norm)
    fp = _fingerprint(P, config)
    state = _load_checkpoint(checkpoint, fp, log)
    timings = {"preprocess_s": time.perf_counter() - t0}

    def save(**st):
        if checkpoint:
            atomic_savez(checkpoint, fingerprint=np.array(fp), **st)

    t = time.perf_counter()
    theta, obj_log = _align(P, config, state, save, progress, log)
    timings["align_s"] = time.perf_counter() - t
    Q = align.rotate_back(P, theta)

    t = time.perf_counter()
    aligned_state = dict(step=np.array(len(_schedule(config))), theta=theta, objective=np.array(obj_log))
    comps, log_pi, ll_log, min_sep = _mixture(Q, config, state, lambda **st: save(**aligned_state, **st), progress)
    lj = mixture.log_joint(Q, comps, log_pi)  # once: final log-likelihood and hard labels
    final_ll = float(logsumexp(lj, axis=1).sum())
    labels = np.argmax(lj, 1)
    timings["mixture_s"] = time.perf_counter() - t
    timings["total_s"] = time.perf_counter() - t0

    model = to_pose_model(comps, log_pi, mm_per_unit, config, n_poses=len(poses_mm))
    mu_all, cov_all = moments(Q)
    total_var = float(np.trace(cov_all))
    k1 = ppca_from_moments(mu_all, cov_all, config.num_basis)
    report = {
        "config": asdict(config),
        "poses_in": int(len(poses_mm)), "poses_fitted": int(len(P)), "mm_per_unit": mm_per_unit,
        "alignment_objective": obj_log,
        "alignment_monotone": bool(np.all(np.diff(obj_log) <= 1e-9 * np.abs(np.array(obj_log[1:])) + 1e-9)),
        "variance_explained_single_ppca": float(np.sum(k1.lam) / total_var),
        "em_loglik": ll_log + [final_ll],
        "components": int(len(comps)),
        "component_sizes": np.bincount(labels, minlength=len(comps)).tolist(),
        "component_weights": np.exp(log_pi).tolist(),
        "seed_min_separation": min_sep,
        "timings_s": timings,
    }
    return model, report, {"aligned": Q, "labels": labels}


def _load_checkpoint(checkpoint, fingerprint, log):
    """The checkpoint's arrays, or None when there is none; refuses one written for other data or config."""
    if not (checkpoint and os.path.exists(checkpoint)):
        return None
    try:
        with np.load(checkpoint, allow_pickle=False) as z:
            state = {k: z[k] for k in z.files}
    except Exception as e:  # numpy and zipfile raise many types on foreign or truncated files
        raise ValueError(f"{checkpoint}: not a fit checkpoint (not a readable .npz: {type(e).__name__}: {e}); "
                         "delete it or choose another path") from None
    missing = sorted({"fingerprint", "stage", "step", "theta", "objective"} - set(state))
    if missing:
        raise ValueError(f"{checkpoint}: not a fit checkpoint (arrays {missing} are missing; it holds "
                         f"{sorted(state)}); delete it or choose another path")
    if str(state["fingerprint"]) != fingerprint:
        raise ValueError(f"{checkpoint}: checkpoint was written for other data or another config "
                         f"(fingerprint {state['fingerprint']} != {fingerprint}); delete it or choose another path")
    log(f"resuming from {checkpoint} (stage {state['stage']}, step {int(state['step'])})")
    return state


def _align(P, config, state, save, progress, log):
    """Sec. 4.1: alternate PPCA and rotation updates, the basis growing to J (resumed from ``state``); ``save`` after
    every alternation. Returns ``(theta (M,), objective log)``: eq. (1) after each PPCA and each rotation update."""
    from tqdm import tqdm

    schedule = _schedule(config)
    if state is None:
        _, theta = align.tomasi_kanade_mean(P)
        obj_log = []
        step = 0
    else:
        theta = state["theta"]
        obj_log = state["objective"].tolist()
        step = int(state["step"]) if str(state["stage"]) == "align" else len(schedule)
    solver = align.ROTATION_SOLVERS[config.rotation_solver]
    bar = tqdm(total=len(schedule), initial=step, desc="align", disable=not progress, unit="it")
    while step < len(schedule) and not _align_converged(obj_log, step, schedule, config.align_tol):
        J, _ = schedule[step]
        (mu, U, lam, s2), cov = align.ppca_step(P, theta, J, return_cov=True)
        e_ppca = align.objective_after_ppca(len(P), cov, U, lam, s2)
        theta, terms = solver(P, theta, mu, U, lam, s2)
        e_rot = align.objective_from_terms(terms, U, lam, s2)
        obj_log += [e_ppca, e_rot]
        step += 1
        bar.update(1)
        bar.set_postfix(J=J, E=f"{e_rot:.8g}")
        save(stage=np.array("align"), step=np.array(step), theta=theta, objective=np.array(obj_log))
    bar.close()
    if step < len(schedule):
        log(f"alignment converged after {step} alternations")
    return theta, obj_log


def _mixture(Q, config, state, save, progress):
    """Sec. 4.2: greedy seeds, then EM until the log-likelihood settles (resumed from ``state``); ``save`` after
    every EM iteration. Returns ``(components, log_pi, log-likelihood log, seed min separation)``."""
    from tqdm import tqdm

    rng = np.random.default_rng(config.seed)
    if state is not None and str(state["stage"]) == "mixture":
        comps = _unpack_components(state)
        log_pi = state["log_pi"]
        ll_log = state["loglik"].tolist()
        seeds = state["seeds"]
        min_sep = float(state["min_separation"])
        it = int(state["em_step"])
    else:
        sub = np.sort(rng.choice(len(Q), size=min(config.seed_subsample, len(Q)), replace=False))
        seed_idx, min_sep = mixture.greedy_seeds(Q[sub], config.max_components, config.min_separation)
        seeds = sub[seed_idx]
        d = np.stack([np.linalg.norm(Q - Q[s], axis=1) for s in seeds], 1)
        resp = np.zeros((len(Q), len(seeds)))
        resp[np.arange(len(Q)), np.argmin(d, 1)] = 1.0
        comps, log_pi = mixture.m_step(Q, resp, config.num_basis)
        ll_log, it = [], 0
    bar = tqdm(total=config.em_iterations, initial=it, desc="EM", disable=not progress, unit="it")
    converged = len(ll_log) >= 2 and abs(ll_log[-1] - ll_log[-2]) <= config.em_tol * abs(ll_log[-1])
    while it < config.em_iterations and not converged:
        new_comps, new_log_pi, ll, _ = mixture.em_step(Q, comps, log_pi, config.num_basis)
        ll_log.append(ll)
        comps, log_pi = new_comps, new_log_pi
        it += 1
        bar.update(1)
        bar.set_postfix(K=len(comps), LL=f"{ll:.8g}")
        converged = len(ll_log) >= 2 and abs(ll_log[-1] - ll_log[-2]) <= config.em_tol * abs(ll_log[-1])
        save(stage=np.array("mixture"), seeds=seeds, min_separation=np.array(min_sep), em_step=np.array(it),
             loglik=np.array(ll_log), log_pi=log_pi, **_pack_components(comps))
    bar.close()
    return comps, log_pi, ll_log, min_sep


def to_pose_model(comps, log_pi, mm_per_unit, config, n_poses):
    mean = align.to_poses(np.stack([c.mu for c in comps]))
    basis = np.stack([align.to_poses(c.U.T) for c in comps])  # (K, J, 17, 3)
    s2 = np.array([c.s2 for c in comps])
    lam = np.stack([c.lam for c in comps])
    variances = np.maximum(lam - s2[:, None], 1e-6 * s2[:, None])
    w = np.exp(log_pi - np.max(log_pi))
    return PoseModel(mean, basis, variances, s2, w / w.sum(), mm_per_unit,
                     provenance={"fitted_by": "model_fitting.fit", "config": asdict(config), "poses": int(n_poses)})


def save_outputs(model, report, extras, model_path, report_path=None, figure_path=None):
    """Write the model, the JSON report and the Figure-2 style PNG (all atomically)."""
    model.save(model_path)
    if report_path:
        atomic_write_json(report_path, report)
    if figure_path:
        from .figures import alignment_figure

        alignment_figure(extras["aligned"], extras["labels"], model, figure_path)
