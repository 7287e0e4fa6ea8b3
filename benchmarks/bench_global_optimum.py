"""Does the default search (the exact optimum over the angle) find the exhaustive search's optimum, and at what speed
beside 80 angles alone and 80 angles + golden-section refinement?

Poses drawn from the shipped model (random component, coefficients from its prior, random ground-plane angle),
projected exactly, lifted with 80 angles (grid), 80 angles + golden refinement, the default search and the
10,000-angle exhaustive reference. Prints the mean 3D difference (mm) and the share of frames whose cost is within
1e-6 (relative) of the reference or lower, and the speed of each.

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
    names = ("80 angles", "80 angles + refine", "default (optimum)")
    for name, kw in (("80 angles", dict(search="grid")), ("80 angles + refine", dict(search="refine")),
                     ("default (optimum)", {}), ("10,000 angles", dict(num_angles=10000, search="grid"))):
        lifter = Lifter(m, **kw)
        t = time.perf_counter()
        runs[name] = lifter.lift(y)
        dt = time.perf_counter() - t
        speed[name] = args.frames / dt
        print(f"  {name:<20} {speed[name]:>10,.0f} frames/s")
    for name in names:
        print(f"  {name} is {speed[name] / speed['10,000 angles']:,.0f}x faster than the 10,000-angle reference")
    print(f"  default (optimum) / 80 angles alone: {speed['default (optimum)'] / speed['80 angles']:.2f}")
    ref = runs["10,000 angles"]
    for name in names:
        r = runs[name]
        d3 = np.linalg.norm(r.pose3d_mm - ref.pose3d_mm, axis=-1).mean(-1)
        within = r.cost <= ref.cost * (1 + 1e-6) + 1e-12
        print(f"{name:<20}: mean 3D difference to the 10,000-angle solution {d3.mean():.3f} mm "
              f"(max {d3.max():.2f}); cost within 1e-6 or lower: {100 * within.mean():.2f}% of frames")


if __name__ == "__main__":
    main()
