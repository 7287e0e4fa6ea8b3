"""CPU cost of one training iteration of `lifting train --data` (the shipped solver, the data layer on a prepared
dataset): the full-size extended net (or --net cpm) at --batch N against the small variant at the same batch (the
reference, same process, same data), after one warm-up iteration; and the peak memory of each, measured in a fresh
child process per net (``ru_maxrss``). The dataset is the miniature release (``lifting h36m-miniature``) through
``h36m-prepare``, made in a temporary folder.

    python benchmarks/bench_train_step.py [--net lifting] [--batch 1] [--iterations 2]
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import machine  # noqa: E402

os.environ.setdefault("GLOG_minloglevel", "2")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

CHILD = """
import json, os, resource, sys, time
from tools.train_h36m import train_dataset
dataset, out, prototxt, iterations = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
train_dataset(dataset, out + '/warm', prototxt=prototxt, iterations=1, workers=0, snapshot_every=0, log=None)
t = time.perf_counter()
train_dataset(dataset, out + '/timed', prototxt=prototxt, iterations=iterations, workers=0, snapshot_every=0, log=None)
per = (time.perf_counter() - t) / iterations
print(json.dumps({"s_per_iteration": per, "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def batch_prototxt(src, batch, folder):
    text = open(src).read()
    text = re.sub(r"(input_param \{\s*shape \{\s*dim: )\d+", rf"\g<1>{batch}", text)
    path = os.path.join(folder, f"b{batch}_" + os.path.basename(src))
    open(path, "w").write(text)
    return path


def run(dataset, folder, prototxt, iterations):
    env = {**os.environ, "PYTHONPATH": ROOT}
    r = subprocess.run([sys.executable, "-c", CHILD, dataset, folder, prototxt, str(iterations)], capture_output=True,
                       text=True, env=env, check=True)
    return json.loads(r.stdout.strip().splitlines()[-1])


def main():
    from prototxt import generate

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--net", choices=("lifting", "cpm"), default="lifting")
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--iterations", type=int, default=2)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        from model_fitting.miniature import write_release
        from model_fitting.prepare import prepare

        fixture = os.path.join(ROOT, "..", "shared", "data", "h36m_fixture")
        release = write_release(fixture, os.path.join(tmp, "release"), log=None)
        dataset = os.path.join(tmp, "train")
        prepare(release, dataset, os.path.join(release, "cameras.h5"), subjects=["S1", "S5"], log=None)
        rows = {}
        for size in ("small", "full"):
            proto = batch_prototxt(os.path.join(generate.HERE, f"{args.net}_h36m_{size}_train.prototxt"), args.batch,
                                   tmp)
            t = time.perf_counter()
            rows[size] = run(dataset, os.path.join(tmp, size), proto, args.iterations)
            rows[size]["wall_s"] = time.perf_counter() - t
    print(f"machine: {machine()}; load average {os.getloadavg()[0]:.1f}")
    print(f"train --data, --net {args.net}, batch {args.batch}, CPU, {args.iterations} timed iterations after 1 "
          "warm-up (shipped solver, data layer with workers=0, miniature release)")
    for size, r in rows.items():
        print(f"  {size:5s}: {r['s_per_iteration']:.2f} s an iteration, peak memory {r['peak_rss_mib']:.0f} MiB")
    full, small = rows["full"], rows["small"]
    print(f"ratio full / small (the reference): {full['s_per_iteration'] / small['s_per_iteration']:.0f}x "
          f"time, {rows['full']['peak_rss_mib'] / rows['small']['peak_rss_mib']:.1f}x memory")


if __name__ == "__main__":
    main()
