"""`lifting lift` of a big batch: peak memory (RSS) and frames/s, to npz and to JSON, this tree beside the version
before issue 20 (commit 98c675d, exported from git history: the whole result held in memory, the npz compressed in
memory, the JSON built as one object), each in a fresh process, in one run.

Input: --frames poses drawn from the shipped model, projected with 2D noise, saved as .npy (frames, 17, 2).

    python benchmarks/bench_lift_stream.py [--frames 200000] [--json-frames 50000] [--no-before]
"""
import argparse
import os
import subprocess
import sys
import tarfile
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import machine  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BEFORE = "98c675d"
RUN = "import sys; from lifting_cli.main import main; sys.exit(main(sys.argv[1:]))"


def run_lift(tree, inp, out):
    """One ``lifting lift`` in a fresh process on the code in ``tree``: (seconds, peak RSS MB)."""
    env = {**os.environ, "PYTHONPATH": tree}
    t = time.perf_counter()
    # the child reports its own peak RSS
    code = (RUN.replace("sys.exit(main(sys.argv[1:]))", "rc = main(sys.argv[1:])")
            + f"; sys.path.insert(0, {os.path.dirname(os.path.abspath(__file__))!r}); from common import peak_rss_mb; "
            + "print('PEAK', peak_rss_mb()); sys.exit(rc)")
    out_ = subprocess.run([sys.executable, "-c", code, "lift", inp, "-o", out], cwd=tree, env=env,
                          capture_output=True, text=True)
    dt = time.perf_counter() - t
    if out_.returncode != 0:
        sys.exit(f"lift failed in {tree}: {out_.stderr[-2000:]}")
    peak = [float(line.split()[1]) for line in out_.stdout.splitlines() if line.startswith("PEAK")][0]
    return dt, peak


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=int, default=200_000)
    ap.add_argument("--json-frames", type=int, default=50_000)
    ap.add_argument("--no-before", action="store_true", help="only this tree")
    args = ap.parse_args()
    from lifting.geometry import project, rotate_ground
    from lifting.model import load_model
    from lifting.synthetic import sample_poses

    print(f"machine: {machine()}; load average {os.getloadavg()[0]:.1f} (shared with other work)")
    with tempfile.TemporaryDirectory() as tmp:
        trees = {"now": ROOT}
        if not args.no_before:
            old = os.path.join(tmp, "before")
            os.makedirs(old)
            tar = subprocess.run(["git", "archive", BEFORE], cwd=ROOT, capture_output=True, check=True).stdout
            with tarfile.open(fileobj=__import__("io").BytesIO(tar)) as t:
                t.extractall(old, filter="data")
            trees[f"before ({BEFORE})"] = old
        m = load_model()
        for n, ext in ((args.frames, "npz"), (args.json_frames, "json")):
            canon, _, theta, _ = sample_poses(m, n, seed=1)
            y = project(rotate_ground(canon, theta), scale=300.0, offset=(500, 400))
            y += np.random.default_rng(2).normal(scale=3.0, size=y.shape)
            inp = os.path.join(tmp, f"k{n}.npy")
            np.save(inp, y)
            del canon, y
            for name, tree in trees.items():
                out = os.path.join(tmp, f"out.{ext}")
                dt, peak = run_lift(tree, inp, out)
                size = os.path.getsize(out) / 2**20
                os.unlink(out)
                print(f"  {name:<18} {n:>8,} frames -> {ext}: peak RSS {peak:7,.0f} MB, {n / dt:8,.0f} frames/s "
                      f"(whole command), output {size:,.0f} MB")


if __name__ == "__main__":
    main()
