"""Training batches from a prepared dataset (:mod:`lifting.dataset`), augmented as the authors' ``CPMData`` layer
(:class:`lifting.cpm.Augmentation`), prepared ahead by worker processes; the data layer
(:class:`caffe_layers.data.H36MDataLayer`) only copies them into its tops.

Order: the samples form one endless stream of positions 0, 1, 2, ...; epoch ``e`` is a permutation of the dataset
drawn from ``(seed, e)``. Batch ``b`` of rank ``r`` out of ``world_size`` (one per GPU) takes positions
``[(b * world_size + r) * B, ... + B)``: the ranks share each epoch without overlap and together see what one process
with batch ``world_size * B`` would see. A sample's augmentation is drawn from ``(seed, position)``, so batches do not
depend on the number of workers or on how fast they run, and a run resumed at iteration ``k`` sees the batches of an
uninterrupted one.

Sample: the JPEG crop decoded (BGR), one affine warp (cubic as CPM, or linear; grey border) into the ``crop x crop``
window (:func:`lifting.window.crop_to_window`),
pixels ``(v - 128) / 256``, the centre map as the 4th channel; labels on the stride-8 grid
(:func:`lifting.cpm.label_maps`);
the camera ``E`` turned about the optical axis by the image rotation.
"""
from __future__ import annotations

import multiprocessing as mp
import queue
import traceback

import numpy as np

from lifting import skeleton
from lifting.cpm import STRIDE, Augmentation, apply_affine, label_maps
from lifting.window import crop_to_window, decode_jpeg
from lifting.dataset import PreparedDataset

NUM_MAPS = skeleton.NUM_JOINTS + 1


def batch_positions(batch_index, batch_size, rank=0, world_size=1):
    """Stream positions of batch ``batch_index`` of ``rank`` (see the module's docstring)."""
    if not 0 <= rank < world_size:
        raise ValueError(f"rank must be in 0..{world_size - 1}, got {rank}")
    start = (int(batch_index) * world_size + rank) * batch_size
    return np.arange(start, start + batch_size, dtype=np.int64)


class SampleOrder:
    """Stream positions -> dataset indices: epoch ``e`` is ``permutation(n)`` drawn from ``(seed, e)`` (``shuffle``)
    or ``0..n-1``."""

    def __init__(self, n, seed=0, shuffle=True):
        self.n, self.seed, self.shuffle = int(n), int(seed), bool(shuffle)
        self._perms = {}

    def _perm(self, epoch):
        if epoch not in self._perms:
            if len(self._perms) > 2:
                self._perms.pop(min(self._perms))
            self._perms[epoch] = np.random.default_rng([self.seed, epoch]).permutation(self.n)
        return self._perms[epoch]

    def __call__(self, positions):
        positions = np.asarray(positions, np.int64)
        if not self.shuffle:
            return positions % self.n
        return np.array([self._perm(int(p // self.n))[p % self.n] for p in positions], np.int64)


def make_sample(dataset, index, aug, rng=None, data=None, label=None):
    """One sample, augmented with ``rng`` (None: no augmentation, scale 1, no rotation) ->
    ``(data (4, c, c), label (18, c/8, c/8), E (3, 3), joints2d (17, 2) window pixels)``; ``data`` and ``label`` are
    written into the given arrays where given (a batch's rows: no allocation, no copy)."""
    s = dataset.sample(index)
    try:
        img = decode_jpeg(s["jpeg"])
    except ValueError:
        path, j = dataset.locate(index)
        raise ValueError(f"{path}: field 'jpeg' of sample {j} cannot be decoded") from None
    mult, deg, shift = aug.draw(rng) if rng is not None else (1.0, 0.0, np.zeros(2))
    M = aug.window(s["objpos"], s["box"], mult, deg, shift)
    data = crop_to_window(img, M, aug.crop, s["objpos"], aug.sigma_center, aug.interpolation, out=data)
    joints = apply_affine(M, s["joints2d"])
    maps = label_maps(joints[None], s["visible"][None], aug.crop, aug.sigma)[0]
    if label is None:
        label = maps
    else:
        label[...] = maps
    return data, label, aug.camera(s["E"], deg), joints


def make_batch(dataset, order, aug, positions, seed, augment=True, out=None):
    """The batch of stream ``positions``: dict of ``data (B, 4, c, c)``, ``label (B, 18, g, g)``, ``camera (B, 9)``
    float32, ``joints2d (B, 17, 2)``, ``index (B,)``; written into the arrays of ``out`` where given."""
    b = len(positions)
    g = aug.crop // STRIDE
    out = out if out is not None else {"data": np.empty((b, 4, aug.crop, aug.crop), np.float32),
                                       "label": np.empty((b, NUM_MAPS, g, g), np.float32),
                                       "camera": np.empty((b, 9), np.float32)}
    joints = np.empty((b, skeleton.NUM_JOINTS, 2))
    index = order(positions)
    for k, (p, i) in enumerate(zip(positions, index)):
        rng = np.random.default_rng([int(seed), int(p)]) if augment else None
        _, _, E, joints[k] = make_sample(dataset, int(i), aug, rng, out["data"][k], out["label"][k])
        out["camera"][k] = E.reshape(9)
    return {**out, "joints2d": joints, "index": index}


def _slot_arrays(buf, batch_size, crop):
    g = crop // STRIDE
    shapes = (("data", (batch_size, 4, crop, crop)), ("label", (batch_size, NUM_MAPS, g, g)),
              ("camera", (batch_size, 9)))
    out, offset = {}, 0
    for name, shape in shapes:
        out[name] = np.ndarray(shape, np.float32, buffer=buf, offset=offset)
        offset += int(np.prod(shape)) * 4
    return out


def slot_bytes(batch_size, crop):
    g = crop // STRIDE
    return 4 * batch_size * (4 * crop * crop + NUM_MAPS * g * g + 9)


def _worker(folder, aug_params, cfg, slot_names, tasks, results):
    import signal

    import cv2

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the training process's to handle: no worker tracebacks
    from multiprocessing import shared_memory

    cv2.setNumThreads(1)
    shms = [shared_memory.SharedMemory(name=n) for n in slot_names]
    slots = []
    try:
        dataset = PreparedDataset(folder)
        aug = Augmentation(**aug_params)
        order = SampleOrder(len(dataset), cfg["seed"], cfg["shuffle"])
        slots = [_slot_arrays(s.buf, cfg["batch_size"], aug.crop) for s in shms]
        while True:
            task = tasks.get()
            if task is None:
                return
            slot, batch = task
            try:
                pos = batch_positions(batch, cfg["batch_size"], cfg["rank"], cfg["world_size"])
                make_batch(dataset, order, aug, pos, cfg["seed"], cfg["augment"], out=slots[slot])
                results.put((slot, batch, None))
            except Exception as e:  # reported to the training process, which raises it
                results.put((slot, batch, f"{type(e).__name__}: {e}\n{traceback.format_exc()}"))
    finally:
        del slots
        for s in shms:
            s.close()


class BatchLoader:
    """Batches of one rank, in order, prepared ahead: ``workers`` processes (0: in this process) and ``prefetch``
    batches in flight. :meth:`seek` sets the next batch (a resumed run: its iteration), :meth:`next_into` copies the
    next batch into the given arrays."""

    def __init__(self, folder, batch_size, aug=None, seed=0, rank=0, world_size=1, workers=2, prefetch=4,
                 augment=True, shuffle=True):
        self.folder = str(folder)
        self.dataset = PreparedDataset(self.folder)
        self.aug = aug or Augmentation()
        self.cfg = {"batch_size": int(batch_size), "seed": int(seed), "rank": int(rank), "world_size": int(world_size),
                    "augment": bool(augment), "shuffle": bool(shuffle)}
        batch_positions(0, batch_size, rank, world_size)  # checks rank
        if batch_size < 1 or workers < 0 or prefetch < 1:
            raise ValueError(f"need batch_size >= 1, workers >= 0, prefetch >= 1; got {batch_size}, {workers}, "
                             f"{prefetch}")
        self.order = SampleOrder(len(self.dataset), seed, shuffle)
        self.workers, self.prefetch = int(workers), int(prefetch)
        self.next_batch = 0
        self._procs = []

    def seek(self, batch_index):
        self._stop()
        self.next_batch = int(batch_index)

    def _start(self):
        from multiprocessing import shared_memory

        ctx = mp.get_context("spawn")  # never fork a process that may hold a CUDA context
        size = slot_bytes(self.cfg["batch_size"], self.aug.crop)
        self._shms = [shared_memory.SharedMemory(create=True, size=size) for _ in range(self.prefetch)]
        self._slots = [_slot_arrays(s.buf, self.cfg["batch_size"], self.aug.crop) for s in self._shms]
        self._tasks, self._results = ctx.Queue(), ctx.Queue()
        aug_params = {f: getattr(self.aug, f) for f in self.aug.__dataclass_fields__}
        self._procs = [ctx.Process(target=_worker, args=(self.folder, aug_params, self.cfg,
                                                         [s.name for s in self._shms], self._tasks, self._results),
                                   daemon=True) for _ in range(self.workers)]
        import signal
        import threading

        main = threading.current_thread() is threading.main_thread()
        old = signal.signal(signal.SIGINT, signal.SIG_IGN) if main else None  # inherited: ignored from the start
        try:
            for p in self._procs:
                p.start()
        finally:
            if old is not None:
                signal.signal(signal.SIGINT, old)
        self._done = {}
        for k in range(self.prefetch):
            self._tasks.put((k, self.next_batch + k))

    def next_into(self, data, label, camera=None):
        """Copy the next batch into ``data``, ``label`` (and ``camera``); returns its batch index."""
        b = self.next_batch
        if self.workers == 0:
            pos = batch_positions(b, self.cfg["batch_size"], self.cfg["rank"], self.cfg["world_size"])
            out = {"data": data, "label": label, "camera": camera if camera is not None else
                   np.empty((self.cfg["batch_size"], 9), np.float32)}
            make_batch(self.dataset, self.order, self.aug, pos, self.cfg["seed"], self.cfg["augment"], out=out)
            self.next_batch += 1
            return b
        if not self._procs:
            self._start()
        while b not in self._done:
            try:
                slot, batch, err = self._results.get(timeout=60)
            except queue.Empty:
                dead = [p.exitcode for p in self._procs if not p.is_alive()]
                if dead:
                    self.close()
                    raise RuntimeError(f"data workers died (exit codes {dead}) while preparing batch {b}") from None
                continue
            if err:
                self.close()
                raise RuntimeError(f"data worker failed on batch {batch} of {self.folder}: {err}")
            self._done[batch] = slot
        slot = self._done.pop(b)
        arrays = self._slots[slot]
        data[...] = arrays["data"]
        label[...] = arrays["label"]
        if camera is not None:
            camera[...] = arrays["camera"]
        self._tasks.put((slot, b + self.prefetch))
        self.next_batch += 1
        return b

    def _stop(self):
        if not self._procs:
            return
        while True:  # drop the batches not started yet
            try:
                self._tasks.get_nowait()
            except queue.Empty:
                break
        for _ in self._procs:
            self._tasks.put(None)
        for p in self._procs:
            p.join(timeout=10)
            if p.is_alive():
                p.terminate()
        self._procs = []
        self._slots = []
        for s in self._shms:
            s.close()
            s.unlink()
        self._shms = []

    def close(self):
        self._stop()
        self.dataset.close()

    def __del__(self):
        try:
            self._stop()
        except Exception:
            pass
