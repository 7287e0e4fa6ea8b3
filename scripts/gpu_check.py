"""The GPU check's measurements (run by scripts/gpu_check.sh after the --cuda build; every part also runs on the CPU).

    python scripts/gpu_check.py --mode gpu [--device 0] [--nets full] [--iterations 20] --out results/gpu_check.txt

1. Forward of the extended net (deploy prototxt, random weights saved once and loaded into both nets, the same random
   368 x 368 input and the upright camera) on the CPU and on ``--mode``: the largest absolute difference of every
   output blob, and of all of them together, beside the size of the outputs (NaN, a failed lift's status, must be
   NaN in the same places).
2. ``--iterations`` SGD iterations of the train net of the extended net and of the baseline CPM (the shipped solver's
   settings, batch 8, the same random images and labels in the Input blobs) on ``--mode``: seconds per iteration
   (median after one warm-up iteration), the losses (all finite), and the ratio extended / baseline.
Writes the report atomically to ``--out``; exit 2 with one line when the device cannot be used.
"""
import argparse
import os
import platform
import statistics
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
os.environ.setdefault("GLOG_minloglevel", "2")

from lifting.files import atomic_write_text  # noqa: E402
from lifting.geometry import UPRIGHT_CAMERA  # noqa: E402
from prototxt import generate  # noqa: E402
from tools.devices import DeviceError, probe_gpus  # noqa: E402
from tools.train_h36m import SHIPPED_SOLVER, read_solver  # noqa: E402

NETS = {"full": ("lifting_h36m_full_deploy", "lifting_h36m_full_train", "cpm_h36m_full_train"),
        "small": ("lifting_h36m_small_deploy", "lifting_h36m_small_train", "cpm_h36m_small_train")}


def proto(name):
    return os.path.join(generate.HERE, name + ".prototxt")


def set_mode(caffe, mode, device):
    if mode == "gpu":
        caffe.set_device(device)
        caffe.set_mode_gpu()
    else:
        caffe.set_mode_cpu()


def random_inputs(net, rng):
    """Random values for every Input blob of ``net``: images in [-0.5, 0.5), labels in [0, 1), the upright camera."""
    out = {}
    for name in net.inputs:
        shape = net.blobs[name].data.shape
        if name == "camera":
            out[name] = np.broadcast_to(UPRIGHT_CAMERA.reshape(1, 9), shape).astype(np.float32)
        elif name == "label":
            out[name] = rng.random(shape).astype(np.float32)
        else:
            out[name] = (rng.random(shape) - 0.5).astype(np.float32)
    return out


def forward_difference(caffe, deploy, mode, device, seed=0):
    """Max |a - b| per output blob between a CPU forward and a ``mode`` forward of ``deploy`` with the same weights
    and input; also the largest |output| (for scale)."""
    rng = np.random.default_rng(seed)
    caffe.set_mode_cpu()
    ref = caffe.Net(deploy, caffe.TEST)
    for blobs in ref.params.values():
        for b in blobs:
            b.data[...] = rng.normal(scale=0.01, size=b.data.shape)
    inputs = random_inputs(ref, rng)
    with tempfile.TemporaryDirectory() as tmp:
        weights = os.path.join(tmp, "w.caffemodel")
        ref.save(weights)
        outputs = []
        for m in ("cpu", mode):
            set_mode(caffe, m, device)
            net = caffe.Net(deploy, weights, caffe.TEST)
            for k, v in inputs.items():
                net.blobs[k].data[...] = v
            net.forward()
            outputs.append({k: net.blobs[k].data.copy() for k in net.outputs})
            del net
    cpu, other = outputs
    return {k: compare(cpu[k], other[k]) for k in cpu}


def compare(a, b):
    """(max |a - b| where both are finite, max |a| there, how many entries are non-finite in one and not the same in
    the other). A lift that fails gives NaN (a status, not a number): NaN in the same places counts as equal."""
    both = np.isfinite(a) & np.isfinite(b)
    same_nonfinite = ~np.isfinite(a) & ~np.isfinite(b) & ((np.isnan(a) & np.isnan(b)) | (a == b))
    mismatch = int(np.count_nonzero(~both & ~same_nonfinite))
    d = float(np.abs(a[both] - b[both]).max()) if both.any() else 0.0
    s = float(np.abs(a[both]).max()) if both.any() else 0.0
    return d, s, mismatch


def time_training(caffe, train, mode, device, iterations, seed=0):
    """Seconds per SGD iteration (median after one warm-up) and the losses of ``iterations`` + 1 iterations."""
    sp = read_solver(SHIPPED_SOLVER)
    sp.net = train
    sp.solver_mode = sp.GPU if mode == "gpu" else sp.CPU
    sp.device_id = device
    sp.snapshot = 0
    sp.random_seed = seed
    sp.display = 0
    with tempfile.TemporaryDirectory() as tmp:
        sp.snapshot_prefix = os.path.join(tmp, "snap")
        path = os.path.join(tmp, "solver.prototxt")
        with open(path, "w") as f:
            f.write(str(sp))
        set_mode(caffe, mode, device)
        solver = caffe.SGDSolver(path)
    net = solver.net
    inputs = random_inputs(net, np.random.default_rng(seed))
    times, losses = [], []
    for _ in range(iterations + 1):
        for k, v in inputs.items():
            net.blobs[k].data[...] = v
        t = time.perf_counter()
        solver.step(1)
        times.append(time.perf_counter() - t)
        losses.append(sum(float(net.blobs[k].data) for k in net.outputs if k.startswith("loss")))
    return statistics.median(times[1:]), losses


def report(mode, device, nets, iterations, diff, t_ext, loss_ext, t_base, loss_base, device_name):
    worst = max(d for d, _, _ in diff.values())
    scale = max(s for _, s, _ in diff.values())
    mismatched = sum(m for _, _, m in diff.values())
    lines = [f"# GPU check (scripts/gpu_check.py), {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}",
             f"machine: {os.cpu_count()} cores, {platform.processor() or platform.machine()}; device: {device_name}",
             f"nets: {nets} ({NETS[nets][0]}, {NETS[nets][1]}, {NETS[nets][2]})",
             f"1. forward, CPU vs {mode.upper()}, same weights and input: max abs difference {worst:.3g} over all "
             f"outputs (largest |output| {scale:.3g}); entries finite in one and not the other: {mismatched}"]
    lines += [f"   {k}: max abs difference {d:.3g} (largest |output| {s:.3g}; non-finite mismatches {m})"
              for k, (d, s, m) in diff.items()]
    finite = all(np.isfinite(loss_ext)) and all(np.isfinite(loss_base))
    lines += [f"2. training on {mode.upper()}, {iterations} iterations after 1 warm-up, batch "
              f"{'8' if nets == 'full' else '4'}, the shipped solver's settings:",
              f"   extended net: {t_ext:.4f} s/iteration; losses {loss_ext[1]:.5g} -> {loss_ext[-1]:.5g}",
              f"   baseline CPM: {t_base:.4f} s/iteration; losses {loss_base[1]:.5g} -> {loss_base[-1]:.5g}",
              f"   ratio extended / baseline: {t_ext / t_base:.3f}; all losses finite: {finite}"]
    return "\n".join(lines) + "\n", finite and mismatched == 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mode", choices=("gpu", "cpu"), default="gpu")
    ap.add_argument("--device", type=int, default=0)
    ap.add_argument("--nets", choices=sorted(NETS), default="full")
    ap.add_argument("--iterations", type=int, default=20)
    ap.add_argument("--device-name", default="", help="what to call the device in the report (nvidia-smi's name)")
    ap.add_argument("--out", required=True)
    args = ap.parse_args(argv)
    if args.iterations < 1:
        print(f"gpu_check.py: --iterations must be >= 1, got {args.iterations}", file=sys.stderr)
        return 2
    out_dir = os.path.dirname(os.path.abspath(args.out))
    if not os.path.isdir(out_dir):
        print(f"gpu_check.py: --out {args.out}: folder {out_dir} does not exist", file=sys.stderr)
        return 2
    if args.mode == "gpu":
        try:
            probe_gpus([args.device])
        except DeviceError as e:
            print(f"gpu_check.py: {e}", file=sys.stderr)
            return 2
    import caffe

    deploy, train_ext, train_base = (proto(n) for n in NETS[args.nets])
    diff = forward_difference(caffe, deploy, args.mode, args.device)
    t_ext, loss_ext = time_training(caffe, train_ext, args.mode, args.device, args.iterations)
    t_base, loss_base = time_training(caffe, train_base, args.mode, args.device, args.iterations)
    text, finite = report(args.mode, args.device, args.nets, args.iterations, diff, t_ext, loss_ext, t_base,
                          loss_base, args.device_name or args.mode.upper())
    atomic_write_text(args.out, text)
    print(text, end="")
    return 0 if finite else 1


if __name__ == "__main__":
    sys.exit(main())
