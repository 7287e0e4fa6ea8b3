"""Does 80 angles (+ refinement) find the exhaustive search's optimum?

Poses drawn from the shipped model (random component, coefficients from its prior, random ground-plane angle),
projected exactly, lifted with 80 angles + refinement and with the 10,000-angle exhaustive reference. Prints the
mean 3D difference (mm) and the share of frames whose cost is within 1e-6 (relative) of the reference or lower,
and the speed of both.

    python benchmarks/bench_global_optimum.py [--frames 2000]
"""
import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import machine  # noqa: E402

from lifting.geometry import project, rotate_ground  # noqa: E402
from lifting.lift import Lifter  # noqa: E402
from lifting.model import load_model  # noqa: E402
from lifting.synthetic import sample_poses  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=int, default=2000)
    args = ap.parse_args()
    m = load_model()
    canon, _, theta, _ = sample_poses(m, args.frames, seed=0)
    y = project(rotate_ground(canon, theta), scale=300.0)
    print(f"machine: {machine()}; {args.frames} poses drawn from the shipped model (K={m.num_components}, "
          f"J={m.num_basis})")
    runs, speed = {}, {}
    for name, kw in (("80 angles", dict(num_angles=80)), ("80 angles + refine", dict(num_angles=80, refine=True)),
                     ("10,000 angles", dict(num_angles=10000))):
        lifter = Lifter(m, **kw)
        t = time.perf_counter()
        runs[name] = lifter.lift(y)
        dt = time.perf_counter() - t
        speed[name] = args.frames / dt
        print(f"  {name:<20} {speed[name]:>10,.0f} frames/s")
    for name in ("80 angles", "80 angles + refine"):
        print(f"  {name} is {speed[name] / speed['10,000 angles']:,.0f}x faster than the 10,000-angle reference")
    ref = runs["10,000 angles"]
    for name in ("80 angles", "80 angles + refine"):
        r = runs[name]
        d3 = np.linalg.norm(r.pose3d_mm - ref.pose3d_mm, axis=-1).mean(-1)
        within = r.cost <= ref.cost * (1 + 1e-6) + 1e-12
        print(f"{name:<20}: mean 3D difference to the 10,000-angle solution {d3.mean():.3f} mm "
              f"(max {d3.max():.2f}); cost within 1e-6 or lower: {100 * within.mean():.2f}% of frames")


if __name__ == "__main__":
    main()
