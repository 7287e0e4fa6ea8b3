"""Training on a prepared Human3.6M dataset (``lifting h36m-prepare``) as the paper did: the shipped solver
(``prototxt/lifting_h36m_full_solver.prototxt``: SGD with momentum 0.9, base_lr 5e-4, step 50,000 x 0.333, weight decay
5e-4, 172,980 iterations) used as it is, the extended net or (``net="cpm"``) the baseline CPM of Table 2 with the same
data and schedule (batch 8 per device), on the CPU, one GPU or several.

The run folder holds ``net.prototxt`` (the train net, its ``Input`` blobs data/label/camera replaced by the
:class:`caffe_layers.data.H36MDataLayer` reading the dataset), ``solver.prototxt`` (the shipped solver with only
``net``, ``snapshot_prefix``, ``solver_mode``, ``device_id``, ``random_seed`` and ``snapshot`` changed: the loop takes
the snapshots, at the solver's interval unless told otherwise), ``snap_iter_N.caffemodel`` / ``.solverstate``,
``loss.json`` and ``loss.png``. A resumed run restores the solver state and its data layer continues with the batch
of that iteration.

Several GPUs: Caffe's own NCCL path, as BVLC's ``python/train.py`` does it: one solver process per GPU (spawned),
each told its rank (``set_solver_count``/``set_solver_rank``/``set_multiprocess``), ``caffe.NCCL(solver, uid)`` with
one NCCL id for the run, ``nccl.bcast()`` (rank 0's parameters to all), ``solver.add_callback(nccl)`` (the gradients
all-reduced and divided by the number of ranks after every backward pass, before the update) and, with the solver's
``layer_wise_reduce``, ``net.after_backward(nccl)``. Each rank's data layer reads its own share of the batches
(:mod:`caffe_layers.batches`). The effective batch is GPUs x 8; rank 0 logs (its own loss) and snapshots. It needs
Caffe built with CUDA and NCCL (``scripts/setup.sh --cuda``); a CPU-only Caffe refuses ``--gpu`` at once.
"""
from __future__ import annotations

import contextlib
import json
import multiprocessing as mp
import os

import numpy as np

from prototxt import FOLDER as PROTO

from .devices import DeviceError, probe_gpus

SHIPPED_SOLVER = os.path.join(PROTO, "lifting_h36m_full_solver.prototxt")
#: ``--net``: the full-size train nets of the extended net and the baseline CPM
NETS = {"lifting": os.path.join(PROTO, "lifting_h36m_full_train.prototxt"),
        "cpm": os.path.join(PROTO, "cpm_h36m_full_train.prototxt")}


def read_solver(path):
    """A solver prototxt -> ``SolverParameter``; errors name the file."""
    from caffe.proto import caffe_pb2
    from google.protobuf import text_format

    if not os.path.exists(path):
        raise FileNotFoundError(f"{path}: no such solver file")
    sp = caffe_pb2.SolverParameter()
    try:
        with open(path) as f:
            text_format.Merge(f.read(), sp)
    except text_format.ParseError as e:
        raise ValueError(f"{path}: not a solver prototxt ({e})") from None
    return sp


def read_train_net(train_prototxt):
    """``(NetParameter, {top: Input layer})`` of a train net, which must have Input layers ``data`` and ``label``."""
    from caffe.proto import caffe_pb2
    from google.protobuf import text_format

    if not os.path.exists(train_prototxt):
        raise FileNotFoundError(f"{train_prototxt}: no such net prototxt")
    net = caffe_pb2.NetParameter()
    with open(train_prototxt) as f:
        text_format.Merge(f.read(), net)
    inputs = {layer.top[0]: layer for layer in net.layer if layer.type == "Input"}
    if "data" not in inputs or "label" not in inputs:
        raise ValueError(f"{train_prototxt}: a train net needs Input layers 'data' and 'label' (found "
                         f"{sorted(inputs)})")
    return net, inputs


def data_net(train_prototxt, dataset, workers, seed, rank=0, world_size=1, augment="authors"):
    """The text of ``train_prototxt`` with its ``Input`` layers of ``data``, ``label`` (and ``camera``) replaced by
    one H36MDataLayer reading ``dataset`` with the batch size and crop of those inputs and the named ``augment``
    (:data:`lifting.cpm.AUGMENT_CHOICES`)."""
    from caffe.proto import caffe_pb2
    from google.protobuf import text_format

    net, inputs = read_train_net(train_prototxt)
    dims = list(inputs["data"].input_param.shape[0].dim)
    tops = ["data", "label"] + (["camera"] if "camera" in inputs else [])
    param = {"source": os.path.abspath(dataset), "batch_size": int(dims[0]), "crop": int(dims[-1]),
             "workers": int(workers), "seed": int(seed), "rank": int(rank), "world_size": int(world_size),
             "augment": str(augment)}
    layer = caffe_pb2.LayerParameter(name="data", type="Python", top=tops)
    layer.python_param.module = "caffe_layers"
    layer.python_param.layer = "H36MDataLayer"
    layer.python_param.param_str = json.dumps(param)
    first = min(i for i, other in enumerate(net.layer) if other.type == "Input")
    kept = [other for other in net.layer if not (other.type == "Input" and other.top[0] in tops)]
    del net.layer[:]
    net.layer.extend(kept[:first] + [layer] + kept[first:])
    return text_format.MessageToString(net)


def set_rank_device(caffe, device, rank, world):
    """Before the solver is made: this process's device and, with several ranks, its place among them (as BVLC's
    ``python/train.py``)."""
    if device == "cpu":
        caffe.set_mode_cpu()
        return
    caffe.set_device(int(device))
    caffe.set_mode_gpu()
    if world > 1:
        caffe.set_solver_count(world)
        caffe.set_solver_rank(rank)
        caffe.set_multiprocess(True)


def join_nccl(caffe, solver, uid):
    """After the weights are loaded: rank 0's parameters to every rank, then the gradients all-reduced by NCCL after
    every backward pass (per layer as it finishes when the solver's ``layer_wise_reduce`` is on, Caffe's default)."""
    nccl = caffe.NCCL(solver, uid)
    nccl.bcast()
    solver.add_callback(nccl)
    if solver.param.layer_wise_reduce:
        solver.net.after_backward(nccl)
    return nccl


class RankAgreement:
    """One decision per iteration, the same on every solver process: each rank writes its stop request (Ctrl-C, set by
    the parent) and whether its loss and gradients are finite, all wait, rank 0 combines them (any request stops, any
    non-finite rank diverged), all wait again, all read. ``barrier``: a ``multiprocessing.Barrier`` of the ranks;
    ``flags``: a shared ``multiprocessing.Array("b", 2 * world + 2)``. Two waits an iteration: microseconds on the CPU
    beside a GPU step, and no rank can run ahead of a decision."""

    def __init__(self, barrier, flags, rank, world, timeout=3600):
        self.barrier, self.flags, self.rank, self.world, self.timeout = barrier, flags, rank, world, timeout

    def agree(self, stop, finite):
        """This rank's ``stop`` request and ``finite`` flag in; ``(stop, finite)`` of all ranks out."""
        w = self.world
        self.flags[2 * self.rank], self.flags[2 * self.rank + 1] = int(bool(stop)), int(bool(finite))
        self.barrier.wait(self.timeout)
        if self.rank == 0:
            self.flags[2 * w] = int(any(self.flags[2 * r] for r in range(w)))
            self.flags[2 * w + 1] = int(all(self.flags[2 * r + 1] for r in range(w)))
        self.barrier.wait(self.timeout)
        return bool(self.flags[2 * w]), bool(self.flags[2 * w + 1])


def _data_layers(net):
    """The H36MDataLayer objects of a net (Python layers with a batch loader; tools does not import caffe_layers)."""
    return [layer for layer in net.layers if hasattr(layer, "loader") and callable(getattr(layer, "seek", None))]


def _loss(net):
    return sum(float(net.blobs[k].data) for k in net.outputs if k.startswith("loss"))


def _finite_gradients(net):
    return all(np.isfinite(b.diff).all() for blobs in net.params.values() for b in blobs)


class _Outcome(Exception):
    """How a rank's loop ended other than by finishing: ``kind`` "interrupted" or "diverged", ``message``."""

    def __init__(self, kind, message):
        super().__init__(message)
        self.kind, self.message = kind, message


def _run_rank(rank, cfg, sync=None):
    """One solver process (the whole run when there is one device). Returns the history on rank 0; a run stopped by
    Ctrl-C or by a non-finite loss or gradient raises :class:`_Outcome` (rank 0) after rank 0 has saved what is good:
    the snapshot of the last completed iteration (Ctrl-C) or nothing new (divergence), and ``loss.json`` either way."""

    import caffe
    from tqdm import tqdm

    from lifting.files import atomic_write_json

    from .caffe_files import check_solverstate, copy_weights
    from .train import StopRequest, fusion_names, new_history, plot_history, record, resumed_history

    world = len(cfg["devices"])
    set_rank_device(caffe, cfg["devices"][rank], rank, world)
    solver = caffe.get_solver(cfg["solvers"][rank])
    net = solver.net
    log = cfg["log"] if rank == 0 else None
    if cfg["resume"]:
        check_solverstate(cfg["resume"], net, cfg["solvers"][rank])
        solver.restore(cfg["resume"])
    elif cfg["weights"]:
        copy_weights(net, cfg["weights"], cfg["solvers"][rank], hint="convert CPM weights with `lifting convert-cpm`")
    if cfg["fusion_init"] is not None and not cfg["resume"]:
        for k in fusion_names(net):
            net.params[k][0].data[...] = cfg["fusion_init"]
    for layer in _data_layers(net):
        layer.seek(solver.iter)  # a resumed run continues with the batch of its iteration
    # Ctrl-C: one process handles SIGINT itself; several: the parent sets the shared stop value (the ranks ignore
    # SIGINT) and the ranks agree on the iteration to stop after (RankAgreement)
    stop = StopRequest(log, shared=sync["stop"] if sync else None)
    nccl = join_nccl(caffe, solver, sync["uid"]) if sync is not None else None
    agreement = RankAgreement(sync["barrier"], sync["flags"], rank, world) if sync is not None else None
    state = {"finite": True}
    # before the update (after NCCL's all-reduce, whose callback comes first): are the loss and the gradients finite?
    # (the loss itself is checked after the step: the update does not change it)
    solver.add_callback(lambda: None, lambda: state.update(finite=_finite_gradients(net)))
    history = new_history()
    log_path = os.path.join(cfg["out"], "loss.json")
    prefix = os.path.join(os.path.abspath(cfg["out"]), "snap")
    if rank == 0 and cfg["resume"]:
        history = resumed_history(log_path, solver.iter)
    start = solver.iter
    stop_at = min(start + cfg["iterations"], cfg["max_iter"]) if cfg["iterations"] else cfg["max_iter"]
    if log:
        log(f"iterations {start}..{stop_at} of {cfg['max_iter']} on {cfg['describe']}")
    every = cfg["snapshot_every"]
    last = os.path.abspath(cfg["resume"]) if cfg["resume"] else None  # the newest snapshot: always a good state

    def snapshot():  # rank 0 writes; every rank knows the newest snapshot (for the messages)
        nonlocal last
        if rank == 0:
            solver.snapshot()
            atomic_write_json(log_path, history, indent=None)
        last = f"{prefix}_iter_{solver.iter}.solverstate"

    try:
        with stop if sync is None else contextlib.nullcontext():
            for it in tqdm(range(start, stop_at), desc="train", unit="it", disable=rank != 0 or log is None):
                why = None
                try:
                    solver.step(1)
                except FloatingPointError as e:  # non-finite belief maps (a lifting layer's check): no update made
                    why = str(e)
                loss = float("nan") if why else _loss(net)
                finite = why is None and state["finite"] and bool(np.isfinite(loss))
                stop_now = stop.requested
                if agreement is not None and why is None:  # a rank whose forward raised is out of step: the others
                    stop_now, finite = agreement.agree(stop_now, finite)  # wait in NCCL and the parent stops them
                if not finite:  # a bad update is in memory only: never saved
                    if rank == 0:
                        record(history, net, it, loss=loss)
                        atomic_write_json(log_path, history, indent=None)
                    if rank == 0 or why:
                        why = why or (f"loss {loss:g}" if not np.isfinite(loss) else
                                      "a non-finite loss or gradient" + (" on another GPU" if world > 1 else ""))
                        where = (f"the last good snapshot is {last}: resume from it with a lower base_lr, "
                                 f"{cfg['resume_command'](last, solver='SOLVER_WITH_LOWER_BASE_LR.prototxt')}" if last
                                 else "no snapshot was written before it: start again with a lower base_lr (--solver "
                                 "SOLVER_WITH_LOWER_BASE_LR.prototxt)")
                        raise _Outcome("diverged", f"training diverged at iteration {it} ({why}"
                                                   f"{f', rank {rank}' if world > 1 else ''}); nothing of that step "
                                                   f"was saved; {where}; loss log: {log_path}")
                    return None
                if rank == 0:
                    record(history, net, it, loss=loss)
                if every and solver.iter % every == 0:
                    snapshot()
                if stop_now:
                    if last != f"{prefix}_iter_{solver.iter}.solverstate":
                        snapshot()
                    if rank == 0:
                        raise _Outcome("interrupted", f"training interrupted after iteration {solver.iter}; the "
                                                      f"snapshot {last} holds it: resume with "
                                                      f"{cfg['resume_command'](last)}")
                    return None
        if not (every and solver.iter % every == 0):
            snapshot()
        if rank == 0:
            atomic_write_json(log_path, history, indent=None)
            plot_history(history, os.path.join(cfg["out"], "loss.png"), fusion_names(net))
    finally:
        for layer in _data_layers(net):
            layer.loader.close()
        del nccl  # NCCL's communicator goes before the process ends
    return history


def _rank_entry(rank, cfg, sync):
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent turns Ctrl-C into the shared stop request
    try:
        _run_rank(rank, cfg, sync)
    except _Outcome as o:
        sync["outcome"].put((o.kind, o.message))
    except BaseException:
        sync["barrier"].abort()  # the other ranks stop waiting for this one at the agreement
        raise


class _ResumeCommand:
    """The command that resumes this run from a snapshot (printed after Ctrl-C or a divergence)."""

    def __init__(self, dataset, out, net, prototxt, solver, gpus):
        self.dataset, self.out, self.net, self.prototxt, self.solver, self.gpus = (dataset, out, net, prototxt, solver,
                                                                                   gpus)

    def __call__(self, snapshot, solver=None):
        import shlex

        parts = ["lifting", "train", "--data", self.dataset, "--net", self.net]
        if self.prototxt:
            parts += ["--prototxt", self.prototxt]
        if solver or self.solver:
            parts += ["--solver", solver or self.solver]
        if self.gpus:
            parts += ["--gpu", ",".join(map(str, self.gpus))]
        return shlex.join(parts + ["--out", self.out, "--resume", snapshot])


def _outcome_error(kind, message):
    from lifting.errors import Interrupted

    from .train import TrainingDiverged

    return Interrupted(message) if kind == "interrupted" else TrainingDiverged(message)


def train_dataset(dataset, out, net="lifting", prototxt=None, solver=SHIPPED_SOLVER, devices=("cpu",), iterations=None,
                  resume=None, weights=None, seed=0, workers=2, snapshot_every=None, fusion_init=None,
                  augment="authors", log=print):
    """Train on a prepared dataset; ``devices``: ``["cpu"]``, or GPU ids ``[0]`` / ``[0, 1, ...]`` (one solver process
    each, joined by Caffe's NCCL). ``iterations``: how many to run now (None: up to the solver's ``max_iter``).
    ``augment``: the data layer's augmentation (``"authors"``: none, as the authors' code ran; ``"prototxt"``: the
    prototxt's scale and rotation). Returns the loss history (of rank 0's own batches)."""
    devices = list(devices)
    gpus = [d for d in devices if d != "cpu"]
    if devices.count("cpu") > 1 or (gpus and len(gpus) != len(devices)):
        raise ValueError(f"devices must be ['cpu'] or GPU ids (several solver processes are joined by Caffe's NCCL, "
                         f"which needs GPUs), got {devices}")
    if gpus:
        probe_gpus(gpus)  # at once: a CPU-only build fails here, before anything is read or written
    from lifting.dataset import PreparedDataset
    from lifting.files import atomic_write_text

    if net not in NETS:
        raise ValueError(f"--net must be one of {sorted(NETS)}, got {net!r}")
    from lifting.cpm import Augmentation

    Augmentation.augments(augment)  # a bad name fails before any work
    prototxt = prototxt or NETS[net]
    from .caffe_files import check_solver_nets, read_prototxt

    read_prototxt(prototxt, phase="train", what="--prototxt")  # before Caffe or data_net sees it: no foreign layers
    n_samples = len(PreparedDataset(dataset))  # checks the dataset
    sp = read_solver(solver)
    check_solver_nets(sp, solver)
    every = snapshot_every if snapshot_every is not None else sp.snapshot
    os.makedirs(out, exist_ok=True)
    world = len(devices)
    solvers = []
    for rank, dev in enumerate(devices):
        sfx = "" if world == 1 else f"_rank{rank}"
        net_path = os.path.abspath(os.path.join(out, f"net{sfx}.prototxt"))
        atomic_write_text(net_path, data_net(prototxt, dataset, workers, seed, rank, world, augment))
        run = type(sp)()
        run.CopyFrom(sp)
        run.net = net_path
        run.snapshot_prefix = os.path.join(os.path.abspath(out), "snap")
        run.snapshot = 0
        run.solver_mode = run.CPU if dev == "cpu" else run.GPU
        if dev != "cpu":
            run.device_id = int(dev)
        run.random_seed = int(seed) + rank
        path = os.path.join(out, f"solver{sfx}.prototxt")
        atomic_write_text(path, str(run))
        solvers.append(path)
    batch = int(read_train_net(prototxt)[1]["data"].input_param.shape[0].dim[0])
    describe = (f"{'CPU' if not gpus else 'GPU ' + ','.join(map(str, gpus))}: {world} solver process"
                f"{'es' if world > 1 else ''}, batch {batch} each (effective {batch * world}); {n_samples} samples; "
                f"{os.path.basename(prototxt)}; solver {os.path.basename(solver)}: base_lr {sp.base_lr:g}, momentum "
                f"{sp.momentum:g}, weight_decay {sp.weight_decay:g}, lr_policy {sp.lr_policy} (step {sp.stepsize}, "
                f"gamma {sp.gamma:g}), max_iter {sp.max_iter}; snapshot every {every or 'never'}")
    cfg = {"devices": devices, "solvers": solvers, "out": out, "resume": resume, "weights": weights,
           "fusion_init": fusion_init, "iterations": iterations, "max_iter": sp.max_iter, "snapshot_every": every,
           "describe": describe, "log": log,
           "resume_command": _ResumeCommand(dataset, out, net, prototxt if prototxt != NETS[net] else None,
                                            solver if os.path.abspath(solver) != SHIPPED_SOLVER else None, gpus)}
    if world == 1:
        try:
            return _run_rank(0, cfg)
        except _Outcome as o:
            raise _outcome_error(o.kind, o.message) from None
    import signal
    import threading
    from multiprocessing.connection import wait

    from .train import StopRequest

    import caffe

    ctx = mp.get_context("spawn")  # never fork a process that may hold a CUDA context
    uid = caffe.NCCL.new_uid()  # one NCCL id for the run, as BVLC's python/train.py
    if len(uid) != 128:  # NCCL_UNIQUE_ID_BYTES; unpatched BVLC pycaffe cuts it at its first zero byte on Python 3
        raise DeviceError(f"this pycaffe's NCCL.new_uid() returned {len(uid)} bytes, not NCCL's 128: it lacks "
                          "scripts/caffe-patches/0003-python3-nccl-uid-bytes.patch; rebuild: scripts/setup.sh --cuda")
    sync = {"uid": uid, "barrier": ctx.Barrier(world), "flags": ctx.Array("b", 2 * world + 2),
            "stop": ctx.Value("b", 0), "outcome": ctx.SimpleQueue()}
    cfg["log"] = print if log is not None else None  # rank 0 prints; a callable of the caller cannot cross processes
    procs = [ctx.Process(target=_rank_entry, args=(r, cfg if r == 0 else {**cfg, "log": None}, sync))
             for r in range(world)]
    main_thread = threading.current_thread() is threading.main_thread()
    old = signal.signal(signal.SIGINT, signal.SIG_IGN) if main_thread else None  # the ranks start ignoring Ctrl-C
    try:
        for p in procs:
            p.start()
    finally:
        if old is not None:
            signal.signal(signal.SIGINT, old)
    running, stopped = list(procs), []
    try:
        with StopRequest(print if log is not None else None, shared=sync["stop"]):
            while running:
                for sentinel in wait([p.sentinel for p in running]):
                    p = next(q for q in running if q.sentinel == sentinel)
                    p.join()
                    running.remove(p)
                    if p.exitcode != 0 or not sync["outcome"].empty():
                        # a rank that died (a CUDA abort) or stopped on non-finite values: the others would wait in
                        # NCCL or at the agreement for ever
                        sync["barrier"].abort()
                        for q in running:
                            q.terminate()
                            stopped.append(q)
    except KeyboardInterrupt:  # Ctrl-C twice: stop the ranks now
        for p in running:
            p.terminate()
        for p in running:
            p.join()
        raise
    outcome = None if sync["outcome"].empty() else sync["outcome"].get()
    if outcome is not None:
        raise _outcome_error(*outcome)
    failed = [(r, p.exitcode) for r, p in enumerate(procs) if p.exitcode != 0 and p not in stopped]
    if failed or stopped:
        raise RuntimeError(f"training ranks failed: {', '.join(f'rank {r} (exit code {c})' for r, c in failed)}"
                           f"{'; the others were stopped' if stopped else ''}; see their messages above")
    with open(os.path.join(out, "loss.json")) as f:
        return json.load(f)
