"""Samples/s of the data layer (H36MDataLayer, the CPMData equivalent) with the prototxt's augmentation
(``--augment prototxt``), full size (368 x 368, batch 8): batches prepared by worker processes vs in the training
process itself (the simple reference), measured through a real caffe.Net forward on this machine.

Data: the four real Human3.6M frames of ../shared/data/h36m_fixture cropped as `lifting h36m-prepare` crops them
(618 x 618 JPEG, quality 90), repeated to 64 samples in one shard.

    python benchmarks/bench_data.py [--batches 30] [--workers 1,2,3]
"""
import argparse
import json
import os
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import machine  # noqa: E402

os.environ.setdefault("GLOG_minloglevel", "2")
FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "data", "h36m_fixture")
NET = """layer {{ name: "data" type: "Python" top: "data" top: "label" top: "camera"
  python_param {{ module: "caffe_layers" layer: "H36MDataLayer" param_str: '{param}' }} }}
"""


def make_dataset(folder, copies=16):
    import cv2

    from lifting.cameras import read_h36m_cameras_json
    from lifting.cpm import apply_affine
    from lifting.dataset import write_manifest, write_shard
    from model_fitting.prepare import crop_person

    z = np.load(os.path.join(FIXTURE, "labels.npz"))
    cams = read_h36m_cameras_json(os.path.join(FIXTURE, "cameras.json"))
    jpegs, rows = [], {k: [] for k in ("joints2d", "visible", "objpos", "box", "E", "joints3d_camera_mm",
                                       "crop_transform", "frame", "camera")}
    for i in range(len(z["image"])):
        frame = cv2.imread(os.path.join(FIXTURE, "images", str(z["image"][i])))
        j2d = z["joints2d_px"][i]
        crop, M, box = crop_person(frame, j2d, 2.1)
        jpegs.append(cv2.imencode(".jpg", crop, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes())
        rows["joints2d"].append(apply_affine(M, j2d))
        rows["visible"].append(np.ones(17))
        rows["objpos"].append(apply_affine(M, j2d[0]))
        rows["box"].append(box)
        rows["E"].append(cams[(str(z["subject"][i]), str(z["camera"][i]))].E)
        rows["joints3d_camera_mm"].append(z["joints3d_camera_m"][i] * 1000)
        rows["crop_transform"].append([M[0, 0], M[0, 2], M[1, 2]])
        rows["frame"].append(int(z["frame"][i]))
        rows["camera"].append(str(z["camera"][i]).encode())
    arrays = {k: np.asarray(v * copies) for k, v in rows.items()}
    write_shard(os.path.join(folder, "shards", "fixture.h5"), jpegs * copies, arrays, "S1", "directions", "fixture")
    write_manifest(folder, {"format_version": 1, "complete": True,
                            "shards": [{"file": "shards/fixture.h5", "samples": len(jpegs) * copies}]})
    return crop.shape


def samples_per_second(folder, workers, batches, interpolation, batch=8, repeat=3):
    import caffe

    path = os.path.join(folder, f"net_{workers}_{interpolation}.prototxt")
    param = {"source": folder, "batch_size": batch, "workers": workers, "prefetch": 4, "seed": 0,
             "augmentation": {"interpolation": interpolation}}
    with open(path, "w") as f:
        f.write(NET.format(param=json.dumps(param)))
    net = caffe.Net(path, caffe.TRAIN)
    for _ in range(3):  # start-up: spawning the workers, first batches
        net.forward()
    best = float("inf")
    for _ in range(repeat):  # the machine is shared: the best of a few windows
        t = time.perf_counter()
        for _ in range(batches):
            net.forward()
        best = min(best, time.perf_counter() - t)
    net.layers[0].loader.close()
    return batches * batch / best


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--batches", type=int, default=30)
    ap.add_argument("--workers", default="1,2,3", help="worker counts to measure (comma-separated)")
    args = ap.parse_args()
    if not os.path.isdir(FIXTURE):
        sys.exit(f"shared data not found: {FIXTURE}")
    import caffe

    caffe.set_mode_cpu()
    with tempfile.TemporaryDirectory() as folder:
        crop = make_dataset(folder)
        print(f"machine: {machine()}; batch 8, window 368 x 368, crops {crop[1]} x {crop[0]} JPEG; authors' "
              f"augmentation (scale p 0.7 in [0.7, 1.2], +-10 degrees); best of 3 x {args.batches} batches after 3 "
              f"of warm-up; "
              f"load average {os.getloadavg()[0]:.2f}")
        for interpolation in ("cubic", "linear"):
            ref = samples_per_second(folder, 0, args.batches, interpolation)
            print(f"{interpolation} warp (CPM: cubic)")
            print(f"  one process (reference: in the training process): {ref:7.1f} samples/s")
            for w in (int(v) for v in args.workers.split(",")):
                r = samples_per_second(folder, w, args.batches, interpolation)
                print(f"  {w} worker processes:                               {r:7.1f} samples/s  "
                      f"(ratio {r / ref:.2f})")


if __name__ == "__main__":
    main()
