"""A training loop around ``caffe.SGDSolver``: snapshots, resume, loss log (JSON) and PNG curve.

Data: synthetic images rendered from real poses (:mod:`tools.synth`), a new deterministic batch per iteration
(seed + iteration), so an interrupted run resumed from its snapshot sees the same batches. The solver's
``random_seed`` makes a fresh run repeatable; Caffe does not store its random-number state in a ``.solverstate``, so
after a resume the dropout masks (only those) differ from an uninterrupted run.
"""
from __future__ import annotations

import os

import numpy as np


class TrainingDiverged(ValueError):
    """The loss or the belief maps became NaN or inf; the message names the last good snapshot."""


class StopRequest:
    """Ctrl-C (SIGINT) during a training loop: the first one sets :attr:`requested` and the loop stops after the
    iteration under way, which is then complete (snapshot, loss log); a second one interrupts at once
    (KeyboardInterrupt, nothing more saved). ``shared``: an optional ``multiprocessing.Value`` set too, read by other
    processes. Outside the main thread (no handler can be installed) it only reads ``shared``."""

    def __init__(self, log=print, shared=None):
        self.log, self.shared, self._flag, self._old = log, shared, False, None

    @property
    def requested(self):
        return self._flag or bool(self.shared is not None and self.shared.value)

    def _handler(self, signum, frame):
        import signal

        if self._flag:
            signal.signal(signal.SIGINT, signal.default_int_handler)
            raise KeyboardInterrupt("interrupted twice")
        self._flag = True
        if self.shared is not None:
            self.shared.value = 1
        if self.log:
            self.log("\nCtrl-C: stopping after the iteration under way (a snapshot follows); Ctrl-C again stops at "
                     "once")

    def __enter__(self):
        import signal
        import threading

        if threading.current_thread() is threading.main_thread():
            self._old = signal.signal(signal.SIGINT, self._handler)
        return self

    def __exit__(self, *exc):
        import signal

        if self._old is not None:
            signal.signal(signal.SIGINT, self._old)
            self._old = None
        return False


def train(train_prototxt, out_dir, poses_mm, iterations, base_lr=1e-3, snapshot_every=50, resume=None,
          weights=None, seed=0, fusion_init=None, log=print):
    """Train for ``iterations`` steps (resumed from the snapshot ``resume``, or started from ``weights``, or from the
    prototxt's fillers) with a snapshot every ``snapshot_every`` iterations and at the end; returns the loss history
    ``{"iteration", "loss", "fusion"}`` (also in ``<out_dir>/loss.json``).

    Every file is checked before Caffe reads it (:mod:`tools.caffe_files`). Training stops at the first non-finite
    loss or belief map with :class:`TrainingDiverged`, before the bad step's update is saved: the last snapshot
    stays the last good one. Ctrl-C snapshots the last completed iteration and raises
    :class:`lifting.errors.Interrupted`, whose message says how to resume."""
    import caffe
    from tqdm import tqdm

    from lifting.errors import Interrupted
    from lifting.files import atomic_write_json, atomic_write_text
    from prototxt.netdef import solver as solver_text

    from .caffe_files import check_solverstate, copy_weights, read_prototxt
    from .synth import make_batch

    log = log or (lambda *a, **k: None)
    if int(iterations) < 1:
        raise ValueError(f"iterations must be >= 1, got {iterations}")
    if resume and (weights or fusion_init is not None):
        raise ValueError("a resumed run continues from its snapshot, which holds its weights and fusion weights: "
                         "give no initial weights (--weights) or fusion init (--fusion-init) with --resume")
    train_prototxt = os.path.abspath(train_prototxt)
    read_prototxt(train_prototxt, phase="train")
    os.makedirs(out_dir, exist_ok=True)
    solver_path = os.path.join(out_dir, "solver.prototxt")
    prefix = os.path.join(os.path.abspath(out_dir), "snap")
    atomic_write_text(solver_path, solver_text(train_prototxt, prefix, base_lr=base_lr, max_iter=10**9,
                                               stepsize=10**9, mode="CPU", display=0, snapshot=0, random_seed=seed))
    caffe.set_mode_cpu()
    solver = caffe.SGDSolver(solver_path)
    net = solver.net
    losses = [k for k in net.outputs if k.startswith("loss")]
    if not losses or "data" not in net.blobs:
        raise ValueError(f"{train_prototxt}: no loss output or no 'data' input; train needs a *_train.prototxt")
    log_path = os.path.join(out_dir, "loss.json")
    history = new_history()
    if resume:
        check_solverstate(resume, net, train_prototxt)
        solver.restore(os.fspath(resume))
        history = resumed_history(log_path, solver.iter)
        log(f"resumed at iteration {solver.iter} from {resume}")
    elif weights:
        copy_weights(net, weights, train_prototxt, hint="convert CPM weights with `lifting convert-cpm`")
    if fusion_init is not None:
        for k in net.params:
            if k.startswith("merge_hm_stage"):
                net.params[k][0].data[...] = fusion_init
    size = net.blobs["data"].data.shape[-1]
    n = net.blobs["data"].data.shape[0]
    fusion = fusion_names(net)
    start = solver.iter
    last = os.fspath(resume) if resume else None  # the newest snapshot, always one of a good state
    done = start  # iterations whose step and bookkeeping are complete

    def snapshot():
        nonlocal last
        solver.snapshot()
        atomic_write_json(log_path, history, indent=None)
        last = f"{prefix}_iter_{solver.iter}.solverstate"

    def diverged(it, why):
        atomic_write_json(log_path, history, indent=None)
        where = (f"the last good snapshot is {last}: resume from it with a lower learning rate (--resume {last} "
                 "--base-lr LOWER)" if last else "no snapshot was written before it: start again with a lower "
                 "learning rate (--base-lr)")
        return TrainingDiverged(f"training diverged at iteration {it} ({why}); {where}")

    def interrupted():
        if solver.iter == done and last != f"{prefix}_iter_{solver.iter}.solverstate":
            snapshot()
        where = (f"the snapshot {last} holds the first {done} iterations: resume with --resume {last} and the same "
                 "prototxt, data and --out" if last else "nothing was saved")
        return Interrupted(f"training interrupted after {done} iterations; {where}")

    try:
        with StopRequest(log) as stop:
            for it in tqdm(range(start, start + iterations), desc="train", unit="it"):
                batch = make_batch(poses_mm, n, size, np.random.default_rng(seed * 1_000_003 + it))
                for key in ("data", "label", "camera"):
                    if key in net.blobs:
                        net.blobs[key].data[...] = batch[key]
                try:
                    solver.step(1)
                except FloatingPointError as e:
                    raise diverged(it, str(e)) from None
                loss = float(sum(float(net.blobs[k].data) for k in losses))
                if not np.isfinite(loss):
                    raise diverged(it, f"loss {loss}")
                record(history, net, it, loss=loss)
                done = solver.iter
                if snapshot_every and solver.iter % snapshot_every == 0:
                    snapshot()
                if stop.requested:
                    raise interrupted()
    except KeyboardInterrupt as e:
        if isinstance(e, Interrupted):
            raise
        raise interrupted() from None
    snapshot()
    plot_history(history, os.path.join(out_dir, "loss.png"), fusion)
    return history


def new_history():
    return {"iteration": [], "loss": [], "fusion": []}


def resumed_history(log_path, iteration):
    """The loss log of a run resumed at ``iteration``: its records before that iteration (none if there is no log)."""
    from lifting.files import read_json

    if not os.path.exists(log_path):
        return new_history()
    history = read_json(log_path)
    if not (isinstance(history, dict) and {"iteration", "loss", "fusion"} <= set(history)):
        raise ValueError(f"{log_path}: not a loss log (needs fields iteration, loss, fusion)")
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
