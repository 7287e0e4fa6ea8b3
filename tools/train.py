"""A training loop around ``caffe.SGDSolver``: snapshots, resume, loss log (JSON) and PNG curve.

Data: synthetic images rendered from real poses (:mod:`tools.synth`), a new deterministic batch per iteration
(seed + iteration), so an interrupted run resumed from its snapshot sees the same batches. The solver's
``random_seed`` makes a fresh run repeatable; Caffe does not store its random-number state in a ``.solverstate``, so
after a resume the dropout masks (only those) differ from an uninterrupted run.
"""
from __future__ import annotations

import json
import os

import numpy as np


def train(train_prototxt, out_dir, poses_mm, iterations, base_lr=1e-3, snapshot_every=50, resume=None,
          weights=None, seed=0, fusion_init=None, log=print):
    import caffe
    from tqdm import tqdm

    from lifting.files import atomic_write_text
    from prototxt.netdef import solver as solver_text

    from .synth import make_batch

    log = log or (lambda *a, **k: None)
    os.makedirs(out_dir, exist_ok=True)
    solver_path = os.path.join(out_dir, "solver.prototxt")
    atomic_write_text(solver_path, solver_text(os.path.abspath(train_prototxt), os.path.join(os.path.abspath(out_dir), "snap"),
                                               base_lr=base_lr, max_iter=10**9, stepsize=10**9, mode="CPU",
                                               display=0, snapshot=0, random_seed=seed))
    caffe.set_mode_cpu()
    solver = caffe.SGDSolver(solver_path)
    log_path = os.path.join(out_dir, "loss.json")
    history = new_history()
    if resume:
        solver.restore(resume)
        history = resumed_history(log_path, solver.iter)
        log(f"resumed at iteration {solver.iter} from {resume}")
    elif weights:
        solver.net.copy_from(weights)
    net = solver.net
    if fusion_init is not None and not resume:
        for k in net.params:
            if k.startswith("merge_hm_stage"):
                net.params[k][0].data[...] = fusion_init
    size = net.blobs["data"].data.shape[-1]
    n = net.blobs["data"].data.shape[0]
    fusion = fusion_names(net)
    start = solver.iter
    for it in tqdm(range(start, start + iterations), desc="train", unit="it"):
        batch = make_batch(poses_mm, n, size, np.random.default_rng(seed * 1_000_003 + it))
        for key in ("data", "label", "camera"):
            if key in net.blobs:
                net.blobs[key].data[...] = batch[key]
        solver.step(1)
        record(history, net, it)
        if snapshot_every and solver.iter % snapshot_every == 0:
            solver.snapshot()
            atomic_write_text(log_path, json.dumps(history))
    solver.snapshot()
    atomic_write_text(log_path, json.dumps(history))
    plot_history(history, os.path.join(out_dir, "loss.png"), fusion)
    return history


def new_history():
    return {"iteration": [], "loss": [], "fusion": []}


def resumed_history(log_path, iteration):
    """The loss log of a run resumed at ``iteration``: its records before that iteration (none if there is no log)."""
    if not os.path.exists(log_path):
        return new_history()
    with open(log_path) as f:
        history = json.load(f)
    keep = [i for i, it in enumerate(history["iteration"]) if it < iteration]
    return {k: [v[i] for i in keep] for k, v in history.items()}


def fusion_names(net):
    return sorted(k for k in net.params if k.startswith("merge_hm_stage"))


def record(history, net, it, loss=None):
    """Append iteration ``it``: the summed stage losses (or ``loss``) and the fusion weights as used (clipped)."""
    if loss is None:
        loss = sum(float(net.blobs[k].data) for k in net.outputs if k.startswith("loss"))
    history["iteration"].append(it)
    history["loss"].append(float(loss))
    history["fusion"].append([float(np.clip(net.params[k][0].data[0], 0, 1)) for k in fusion_names(net)])


def plot_history(history, path, fusion_names):
    from lifting.plot import _mpl, save_figure

    plt = _mpl()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    it = np.array(history["iteration"])
    loss = np.array(history["loss"])
    axes[0].plot(it, loss, lw=0.6, alpha=0.5, label="loss (sum over stages)")
    if len(loss) >= 10:
        k = max(5, len(loss) // 50)
        axes[0].plot(it[k - 1:], np.convolve(loss, np.ones(k) / k, mode="valid"), lw=2, label=f"moving mean ({k})")
    axes[0].set_xlabel("iteration")
    axes[0].set_yscale("log")
    axes[0].legend()
    axes[0].set_title("training loss")
    fw = np.array(history["fusion"])
    if fw.size:
        for j, name in enumerate(fusion_names):
            axes[1].plot(it, fw[:, j], label=name)
        axes[1].legend()
    axes[1].set_title("fusion weights w (1 = CNN maps only)")
    axes[1].set_xlabel("iteration")
    save_figure(fig, path)
