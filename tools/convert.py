"""Convert original CPM weights (MPI 15 maps, or LSP/LEEDS 14 joints + background) into a caffemodel that
initialises our extended Human3.6M net (paper sec. 5.2: pre-existing layers from CPM, new layers random).

For every parameter blob of the target net:
  * copied     - a source layer of the same name holds blobs of the same shape;
  * the layers whose shape changed with the joint count (``conv7_stage1_new``, ``Mconv5_stageN_new``: output
    channels; ``Mconv1_stageN_new``: input channels) are, with ``new_layers="random"`` (the default, the paper's
    "new layers randomly initialized"), initialised by the target prototxt's fillers; with ``new_layers="remap"``
    remapped: the filters of corresponding joints (head, neck, shoulders, elbows, wrists, hips, knees, ankles,
    background) are copied into their new positions, the rest stays as freshly initialised;
  * initialised - anything else (the target prototxt's fillers; the fusion weights' init).
"""
from __future__ import annotations

import os

import numpy as np

from lifting import skeleton

from .caffe_files import WeightFileError, check_covers, load_net, param_shapes, read_caffemodel  # noqa: F401


def map_correspondence(order="mpi"):
    """``[(target map index, source map index)]`` for joints and the background: a joint that CPM has (the single-name
    entries of the ``cpm14`` keypoint format) takes CPM's map; Hip, Spine and Thorax (midpoints) have none."""
    if order not in skeleton.CPM_ORDERS:
        raise ValueError(f"unknown CPM joint order {order!r}; known: {sorted(skeleton.CPM_ORDERS)}")
    src = {n: i for i, n in enumerate(skeleton.CPM_ORDERS[order])}
    cpm14 = skeleton.KEYPOINT_FORMATS["cpm14"]["map"]
    pairs = [(skeleton.JOINT_INDEX[h], src[c]) for h, c in cpm14.items() if isinstance(c, str)]
    pairs.append((skeleton.NUM_JOINTS, len(skeleton.CPM_ORDERS[order])))  # background
    return sorted(pairs)


def check_against_prototxt(weights, prototxt, path):
    """Every layer of the source prototxt must be in the caffemodel with exactly its blob shapes; returns the
    prototxt's ``{layer: [shape, ...]}``."""
    expected = param_shapes(load_net(prototxt))
    check_covers(weights, expected, path, prototxt, hint="--cpm-prototxt must be the prototxt the weights belong to")
    return expected


NEW_LAYERS = ("random", "remap")


def convert(src_prototxt, src_caffemodel, dst_prototxt, dst_caffemodel, order="mpi", new_layers="random", log=print):
    """Write ``dst_caffemodel`` for ``dst_prototxt``; returns the table rows (layer, blob, action, detail).
    ``new_layers``: "random" (the paper) or "remap" (joint-aware copy) for the layers whose shape changed."""
    from prototxt.netdef import RENAMED
    from lifting.files import atomic_path

    if new_layers not in NEW_LAYERS:
        raise ValueError(f"new_layers must be one of {NEW_LAYERS}, got {new_layers!r}")
    from .caffe_files import read_prototxt

    read_prototxt(src_prototxt, what="--cpm-prototxt")  # the prototxts first: what they name is never imported
    read_prototxt(dst_prototxt, what="--target")
    weights = read_caffemodel(src_caffemodel)
    check_against_prototxt(weights, src_prototxt, src_caffemodel)
    pairs = map_correspondence(order)
    n_src_maps = len(skeleton.CPM_ORDERS[order]) + 1
    renamed_from = {new: old for old, new in RENAMED.items()}
    net = load_net(dst_prototxt)  # freshly initialised by the target's fillers
    rows = []
    for name, blobs in net.params.items():
        src_name = name if name in weights else renamed_from.get(name)
        for i, blob in enumerate(blobs):
            tgt = blob.data
            if src_name is None or src_name not in weights or i >= len(weights[src_name]):
                rows.append((name, i, "initialised", f"{tuple(tgt.shape)}"))
                continue
            if new_layers == "random" and name in renamed_from:
                rows.append((name, i, "initialised", f"{tuple(tgt.shape)} new layer (replaces {src_name} "
                                                      f"{weights[src_name][i].shape}), random as in the paper"))
                continue
            src = weights[src_name][i]
            if src.shape == tgt.shape:
                tgt[...] = src
                rows.append((name, i, "copied", f"{tuple(tgt.shape)} from {src_name}"))
            elif src.ndim >= 1 and src.shape[0] == n_src_maps and tgt.shape[0] == n_src_maps + 3 \
                    and src.shape[1:] == tgt.shape[1:]:
                for t, s in pairs:
                    tgt[t] = src[s]
                rows.append((name, i, "remapped", f"{tuple(tgt.shape)} <- {src_name} {src.shape}: output maps "
                                                   f"{len(pairs)} of {tgt.shape[0]}"))
            elif src.ndim == 4 and tgt.ndim == 4 and src.shape[0] == tgt.shape[0] and tgt.shape[1] == src.shape[1] + 3:
                feat = src.shape[1] - n_src_maps - 1  # image features, maps, centre map
                tgt[:, :feat] = src[:, :feat]
                for t, s in pairs:
                    tgt[:, feat + t] = src[:, feat + s]
                tgt[:, -1] = src[:, -1]
                rows.append((name, i, "remapped", f"{tuple(tgt.shape)} <- {src_name} {src.shape}: input channels "
                                                   f"{feat} features + {len(pairs)} maps + centre"))
            else:
                raise WeightFileError(f"{src_caffemodel}: layer {src_name!r} blob {i} has shape {src.shape}, which "
                                      f"cannot initialise {name!r} {tuple(tgt.shape)}")
    with atomic_path(dst_caffemodel) as tmp:
        net.save(tmp)
    if log:
        width = max(len(r[0]) for r in rows)
        log(f"{'layer':<{width}}  blob  action       detail")
        for r in rows:
            log(f"{r[0]:<{width}}  {r[1]:>4}  {r[2]:<11}  {r[3]}")
        counts = {a: sum(1 for r in rows if r[2] == a) for a in ("copied", "remapped", "initialised")}
        log(f"blobs: {counts} -> {dst_caffemodel}")
    return rows


#: the name written into a stand-in caffemodel (its ``NetParameter.name``): the label travels with the file
STANDIN_LABEL = "RANDOM WEIGHTS: a stand-in with CPM's shapes, not CPM's trained weights"


def write_standin_cpm(prototxt, out, seed=0, log=print):
    """``lifting cpm-standin``: a caffemodel with the parameter shapes of the CPM deploy ``prototxt`` and random
    weights (normal, std 0.01; biases 0), for dry runs of the reproduction without the original CPM weights. The net's
    name inside the file says it is random (:data:`STANDIN_LABEL`). Written atomically."""
    from caffe.proto import caffe_pb2

    from lifting.files import atomic_path

    net = load_net(prototxt)
    rng = np.random.default_rng(seed)
    n = 0
    for blobs in net.params.values():
        for i, b in enumerate(blobs):
            b.data[...] = rng.normal(0, 0.01, size=b.data.shape) if i == 0 else 0.0
            n += b.data.size
    with atomic_path(out) as tmp:
        net.save(tmp)
        param = caffe_pb2.NetParameter()
        with open(tmp, "rb") as f:
            param.ParseFromString(f.read())
        param.name = f"{STANDIN_LABEL} (seed {seed}; shapes of {os.path.basename(prototxt)})"
        with open(tmp, "wb") as f:
            f.write(param.SerializeToString())
    shapes = net.params
    if log:
        log(f"-> {out}: RANDOM WEIGHTS ({n:,} parameters in {len(shapes)} layers with the shapes of {prototxt}); "
            "a stand-in for dry runs, not CPM's trained weights: numbers made with it say nothing about the paper")
    return out
