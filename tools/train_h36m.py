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

Several devices: one solver process per device (spawned), the data sharded by rank (:mod:`caffe_layers.batches`),
rank 0's parameters broadcast at the start, and after every backward pass, before the update, the gradients (and the
loss) averaged over the ranks through shared memory in pycaffe's solver callback ``on_gradients_ready`` -- the hook
that Caffe's own multi-GPU classes use. The effective batch is ranks x 8; rank 0 logs and snapshots. Caffe's
``python/train.py`` does this with ``caffe.NCCL``, which the pinned Caffe (BVLC 9b89154 in brocolli-caffe 9.0.2) does
not have: its pycaffe exposes no NCCL and its Makefile ignores ``USE_NCCL``.
"""
from __future__ import annotations

import json
import multiprocessing as mp
import os
import uuid

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
from prototxt import FOLDER as PROTO  # noqa: E402
SHIPPED_SOLVER = os.path.join(PROTO, "lifting_h36m_full_solver.prototxt")
#: ``--net``: the full-size train nets of the extended net and the baseline CPM
NETS = {"lifting": os.path.join(PROTO, "lifting_h36m_full_train.prototxt"),
        "cpm": os.path.join(PROTO, "cpm_h36m_full_train.prototxt")}
from .devices import BUILD_HINT, DeviceError, parse_gpus, probe_gpus  # noqa: E402,F401


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
    inputs = {l.top[0]: l for l in net.layer if l.type == "Input"}
    if "data" not in inputs or "label" not in inputs:
        raise ValueError(f"{train_prototxt}: a train net needs Input layers 'data' and 'label' (found {sorted(inputs)})")
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
    first = min(i for i, l in enumerate(net.layer) if l.type == "Input")
    kept = [l for l in net.layer if not (l.type == "Input" and l.top[0] in tops)]
    del net.layer[:]
    net.layer.extend(kept[:first] + [layer] + kept[first:])
    return text_format.MessageToString(net)


class GradientAverager:
    """Mean of the parameter gradients (and of the loss) of ``world`` solver processes, through one shared-memory
    block: a row per rank and a result row; each rank averages its share of the columns (reduce-scatter), then all read
    the result. Rank 0 creates the block, the others attach to it by name. A last column carries each rank's stop
    request (Ctrl-C), so that every rank sees the same decision at the same iteration."""

    def __init__(self, name, rank, world, barrier, net):
        from multiprocessing import shared_memory

        self.rank, self.world, self.barrier = rank, world, barrier
        self.blobs = [b for blobs in net.params.values() for b in blobs]
        self.size = sum(b.data.size for b in self.blobs) + 2  # + the loss, the stop request
        nbytes = 4 * (world + 1) * self.size
        if rank == 0:
            self.shm = shared_memory.SharedMemory(name=name, create=True, size=nbytes)
        self._wait()
        if rank != 0:
            self.shm = shared_memory.SharedMemory(name=name)
        if self.shm.size < nbytes:
            raise RuntimeError(f"rank {rank}: the nets of the ranks differ ({self.shm.size} < {nbytes} bytes)")
        rows = np.ndarray((world + 1, self.size), np.float32, buffer=self.shm.buf)
        self.rows, self.result = rows[:world], rows[world]
        lo = rank * self.size // world
        self.share = slice(lo, (rank + 1) * self.size // world)
        self.loss = float("nan")
        self.stop = False
        self.finite = True

    def _wait(self):
        self.barrier.wait(timeout=3600)

    def _put(self, row, attr):
        o = 0
        for b in self.blobs:
            n = b.data.size
            row[o:o + n] = getattr(b, attr).reshape(-1)
            o += n

    def _get(self, row, attr):
        o = 0
        for b in self.blobs:
            n = b.data.size
            getattr(b, attr)[...] = row[o:o + n].reshape(b.data.shape)
            o += n

    def broadcast(self):
        """Every rank takes rank 0's parameters."""
        if self.rank == 0:
            self._put(self.result, "data")
        self._wait()
        if self.rank != 0:
            self._get(self.result, "data")
        self._wait()

    def average(self, loss, stop=False):
        """The solver callback: this rank's gradients, ``loss`` and stop request in, the mean over the ranks out
        (:attr:`loss`; :attr:`stop`: some rank asked to stop; :attr:`finite`: the mean loss and gradients are
        finite -- the same values, hence the same decisions, on every rank)."""
        row = self.rows[self.rank]
        self._put(row, "diff")
        row[-2] = loss
        row[-1] = 1.0 if stop else 0.0
        self._wait()
        self.result[self.share] = self.rows[:, self.share].mean(axis=0)
        self._wait()
        self._get(self.result, "diff")
        self.loss = float(self.result[-2])
        self.stop = bool(self.result[-1] > 0)
        self.finite = bool(np.isfinite(self.result[:-1]).all())

    def close(self):
        self.rows = self.result = None
        self.shm.close()
        if self.rank == 0:
            self.shm.unlink()


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
    import threading

    import caffe
    from tqdm import tqdm

    from lifting.files import atomic_write_json

    from .caffe_files import check_solverstate, copy_weights
    from .train import StopRequest, fusion_names, new_history, plot_history, record, resumed_history

    device = cfg["devices"][rank]
    if device == "cpu":
        caffe.set_mode_cpu()
    else:
        caffe.set_mode_gpu()
        caffe.set_device(int(device))
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
    # SIGINT) and the ranks agree through the gradient average on the iteration to stop after
    stop = StopRequest(log, shared=sync["stop"] if sync else None)
    averager = None
    state = {"finite": True}
    if sync is not None:
        averager = GradientAverager(sync["name"], rank, len(cfg["devices"]), sync["barrier"], net)
        averager.broadcast()
        solver.add_callback(lambda: None, lambda: averager.average(_loss(net), stop.requested))
    else:  # before the update: are the loss and the gradients finite?
        solver.add_callback(lambda: None, lambda: state.update(finite=bool(np.isfinite(_loss(net))
                                                                           and _finite_gradients(net))))
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

    def snapshot():
        nonlocal last
        solver.snapshot()
        atomic_write_json(log_path, history, indent=None)
        last = f"{prefix}_iter_{solver.iter}.solverstate"

    try:
        with stop if sync is None else _NoSignal():
            for it in tqdm(range(start, stop_at), desc="train", unit="it", disable=rank != 0 or log is None):
                why = None
                try:
                    solver.step(1)
                except FloatingPointError as e:  # non-finite belief maps (a lifting layer's check): no update made
                    why = str(e)
                    if sync is not None:
                        sync["barrier"].abort()  # the other ranks wait in the gradient average: wake them
                except threading.BrokenBarrierError:
                    if averager is None:
                        raise
                    why = "another solver process stopped on non-finite values"
                loss = float("nan") if why else averager.loss if averager else _loss(net)
                finite = why is None and (averager.finite if averager else state["finite"] and np.isfinite(loss))
                if not finite:  # a bad update is in memory only: never saved
                    if rank == 0:
                        record(history, net, it, loss=loss)
                        atomic_write_json(log_path, history, indent=None)
                        why = why or (f"loss {loss:g}" if not np.isfinite(loss) else "a non-finite gradient")
                        where = (f"the last good snapshot is {last}: resume from it with a lower base_lr, "
                                 f"{cfg['resume_command'](last, solver='SOLVER_WITH_LOWER_BASE_LR.prototxt')}" if last
                                 else "no snapshot was written before it: start again with a lower base_lr (--solver "
                                 "SOLVER_WITH_LOWER_BASE_LR.prototxt)")
                        raise _Outcome("diverged", f"training diverged at iteration {it} ({why}); nothing of that "
                                                   f"step was saved; {where}; loss log: {log_path}")
                    return None
                if rank == 0:
                    record(history, net, it, loss=loss)
                    if every and solver.iter % every == 0:
                        snapshot()
                if averager.stop if averager else stop.requested:
                    if rank == 0:
                        if last != f"{prefix}_iter_{solver.iter}.solverstate":
                            snapshot()
                        raise _Outcome("interrupted", f"training interrupted after iteration {solver.iter}; the "
                                                      f"snapshot {last} holds it: resume with "
                                                      f"{cfg['resume_command'](last)}")
                    return None
        if rank == 0:
            if not (every and solver.iter % every == 0):
                snapshot()
            atomic_write_json(log_path, history, indent=None)
            plot_history(history, os.path.join(cfg["out"], "loss.png"), fusion_names(net))
    finally:
        for layer in _data_layers(net):
            layer.loader.close()
        if averager:
            averager.close()
    return history


class _NoSignal:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _rank_entry(rank, cfg, sync):
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent turns Ctrl-C into the shared stop request
    try:
        _run_rank(rank, cfg, sync)
    except _Outcome as o:
        sync["outcome"].put((o.kind, o.message))
    except BaseException:
        sync["barrier"].abort()  # the other ranks stop waiting for this one
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
    """Train on a prepared dataset; ``devices``: ``["cpu"]``, GPU ids ``[0]`` / ``[0, 1, ...]`` (one solver process
    each) or several ``"cpu"`` (the same data-parallel path on CPU processes). ``iterations``: how many to run now (None:
    up to the solver's ``max_iter``). ``augment``: the data layer's augmentation (``"authors"``: none, as the authors'
    code ran; ``"prototxt"``: the prototxt's scale and rotation). Returns the loss history (rank 0; the mean over
    ranks)."""
    devices = list(devices)
    gpus = [d for d in devices if d != "cpu"]
    if gpus and len(gpus) != len(devices):
        raise ValueError(f"devices must be all GPU ids or all 'cpu', got {devices}")
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

    ctx = mp.get_context("spawn")  # never fork a process that may hold a CUDA context
    sync = {"name": f"lifting_grad_{os.getpid()}_{uuid.uuid4().hex[:8]}", "barrier": ctx.Barrier(world),
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
    running = list(procs)
    try:
        with StopRequest(print if log is not None else None, shared=sync["stop"]):
            while running:
                for sentinel in wait([p.sentinel for p in running]):
                    p = next(q for q in running if q.sentinel == sentinel)
                    p.join()
                    running.remove(p)
                    if p.exitcode != 0:  # a rank that died without a word (a CUDA abort) must not leave the others
                        sync["barrier"].abort()
    except KeyboardInterrupt:  # Ctrl-C twice: stop the ranks now
        from multiprocessing import shared_memory

        for p in running:
            p.terminate()
        for p in running:
            p.join()
        try:
            shared_memory.SharedMemory(name=sync["name"]).unlink()
        except FileNotFoundError:
            pass
        raise
    outcome = None if sync["outcome"].empty() else sync["outcome"].get()
    failed = [(r, p.exitcode) for r, p in enumerate(procs) if p.exitcode != 0]
    if failed:
        from multiprocessing import shared_memory

        try:  # rank 0 may have died before unlinking the gradient block
            shared_memory.SharedMemory(name=sync["name"]).unlink()
        except FileNotFoundError:
            pass
        raise RuntimeError(f"training ranks failed: {', '.join(f'rank {r} (exit code {c})' for r, c in failed)}; "
                           "see their messages above")
    if outcome is not None:
        raise _outcome_error(*outcome)
    with open(os.path.join(out, "loss.json")) as f:
        return json.load(f)
