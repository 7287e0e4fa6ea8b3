"""The one definition of the networks: the 6-stage CPM for the 17 Human3.6M joints + background, and the
extended net with a Prob3DPoseLayer and a FusionLayer in stages 1-5 and a final lift after stage 6.

Layer names follow the original CPM release wherever a layer corresponds, so weights transfer by name; the layers
whose shape changes with the joint count carry the authors' ``_new`` suffix: ``conv7_stage1_new`` and
``Mconv5_stageN_new`` (18 outputs instead of 15) and ``Mconv1_stageN_new`` (51 input channels instead of 48).
"""
from __future__ import annotations

import json

import caffe
from caffe import layers as L
from caffe import params as P

from lifting import skeleton

#: learning-rate multiplier of the fusion weights: an effective rate of 0.05 x base_lr (2.5e-5 with the shipped
#: solver), the authors' effective rate: their fusion layer set its blob's diff to 0.05 x the mean of the incoming
#: gradient and Caffe's solver then applied base_lr to it (lr_mult 1), as it does to every Python layer's blob
#: (tests/test_caffe_foundation.py, tests/tools/test_train_h36m.py). Our gradient is the exact derivative of eq. 8.
FUSION_LR_MULT = 0.05
#: variants: the full-size net of the paper and a small one (same structure) for CPU tests and demos. Keys:
#: ``input`` window side (pixels), ``stages`` CPM stages, ``batch`` train batch; channels of the image convolutions
#: conv1-3 of stages 1 and 2 (``image_channels``), of conv4_stage1 (``conv4_channels``), of conv5-6_stage1
#: (``conv5_channels``), of each later stage's Mconv1-4 (``stage_channels``) and its image-feature conv
#: (``feature_channels``); kernel sides of the image convolutions (``image_kernel``) and of Mconv1-3 (``stage_kernel``)
VARIANTS = {
    "full": dict(input=368, stages=6, batch=8, image_channels=128, conv4_channels=32, conv5_channels=512,
                 stage_channels=128, feature_channels=32, image_kernel=9, stage_kernel=11,
                 filler=dict(type="gaussian", std=0.01)),
    "small": dict(input=96, stages=2, batch=4, image_channels=16, conv4_channels=8, conv5_channels=32,
                  stage_channels=16, feature_channels=8, image_kernel=5, stage_kernel=5, filler=dict(type="xavier")),
}
NUM_MAPS = skeleton.NUM_JOINTS + 1  # joints + background
#: layers of the original CPM that are not in this net's ``_new`` set: copied from CPM weights
RENAMED = {"conv7_stage1": "conv7_stage1_new", **{f"Mconv5_stage{t}": f"Mconv5_stage{t}_new" for t in range(2, 7)},
           **{f"Mconv1_stage{t}": f"Mconv1_stage{t}_new" for t in range(2, 7)}}


def _conv(bottom, num, k, v, new, lr_policy):
    if lr_policy == "finetune" and not new:
        mult = [dict(lr_mult=0.001, decay_mult=1), dict(lr_mult=0.002, decay_mult=0)]
    else:
        mult = [dict(lr_mult=1, decay_mult=1), dict(lr_mult=2, decay_mult=0)]
    return L.Convolution(bottom, num_output=num, pad=k // 2, kernel_size=k, param=mult,
                         weight_filler=v["filler"], bias_filler=dict(type="constant"))


def build(variant="full", extended=True, phase="deploy", lr_policy="finetune", model=None, num_angles=80,
          sigma=1.0, batch=None, fusion="paper"):
    """Return the ``NetParameter`` text of a net.

    Args:
        variant: "full" (368 x 368, 6 stages, CPM widths) or "small" (96 x 96, 2 stages, narrow).
        extended: add Prob3DPoseLayer + FusionLayer in stages 1..T-1 and the final lift after stage T.
        phase: "train" (Input blobs data/label/camera, dropout, Euclidean loss per stage) or "deploy".
        lr_policy: "finetune" (CPM layers 0.001/0.002, new layers 1/2, as the authors) or "scratch" (all 1/2).
        model: pose-model file for the lifting layers (None: the shipped default).
        fusion: the FusionLayer's ``fusion``: "paper" (eq. 8) or "authors" (their processheatmaps.py).
    """
    if fusion not in ("paper", "authors"):
        raise ValueError(f"fusion must be 'paper' or 'authors', got {fusion!r}")
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; known: {sorted(VARIANTS)}")
    if phase not in ("train", "deploy"):
        raise ValueError(f"phase must be 'train' or 'deploy', got {phase!r}")
    v = VARIANTS[variant]
    T, S = v["stages"], v["input"]
    n = batch or (v["batch"] if phase == "train" else 1)
    hm = S // 8
    ns = caffe.NetSpec()
    ns.data = L.Input(shape=dict(dim=[n, 4, S, S]))
    if extended:
        ns.camera = L.Input(shape=dict(dim=[n, 9]))
    if phase == "train":
        ns.label = L.Input(shape=dict(dim=[n, NUM_MAPS, hm, hm]))
    ns.image, ns.center_map = L.Slice(ns.data, slice_param=dict(slice_point=[3], axis=1), ntop=2, name="image")
    ns.pool_center_lower = L.Pooling(ns.center_map, pool=P.Pooling.AVE, kernel_size=9, stride=8)
    lift = dict(model=model, num_angles=num_angles, sigma=sigma, joint_channels=list(range(skeleton.NUM_JOINTS)),
                background_channel=skeleton.NUM_JOINTS)

    def conv_relu(name, bottom, num, k, new=False, relu=True):
        setattr(ns, name, _conv(bottom, num, k, v, new, lr_policy))
        top = getattr(ns, name)
        if relu:
            relu_name = name.replace("conv", "relu", 1).replace("_new", "")
            setattr(ns, relu_name, L.ReLU(top, in_place=True))
        return top

    def pool(name, bottom):
        setattr(ns, name, L.Pooling(bottom, pool=P.Pooling.MAX, kernel_size=3, stride=2))
        return getattr(ns, name)

    # ---- stage 1
    x = ns.image
    for i in (1, 2, 3):
        x = conv_relu(f"conv{i}_stage1", x, v["image_channels"], v["image_kernel"])
        x = pool(f"pool{i}_stage1", x)
    x = conv_relu("conv4_stage1", x, v["conv4_channels"], 5)
    x = conv_relu("conv5_stage1", x, v["conv5_channels"], v["image_kernel"])
    if phase == "train":
        ns.drop1_stage1 = L.Dropout(x, dropout_ratio=0.5, in_place=True)
    x = conv_relu("conv6_stage1", x, v["conv5_channels"], 1)
    if phase == "train":
        ns.drop2_stage1 = L.Dropout(x, dropout_ratio=0.5, in_place=True)
    maps = conv_relu("conv7_stage1_new", x, NUM_MAPS, 1, new=True, relu=False)
    # shared image features of stages >= 2
    x = ns.image
    for i in (1, 2, 3):
        x = conv_relu(f"conv{i}_stage2", x, v["image_channels"], v["image_kernel"])
        x = pool(f"pool{i}_stage2", x)
    features = x

    belief = None  # the maps fed to the next stage (stage 1 sets it)
    for t in range(1, T + 1):
        if t >= 2:
            f = conv_relu("conv4_stage2" if t == 2 else f"conv1_stage{t}", features, v["feature_channels"], 5)
            setattr(ns, f"concat_stage{t}", L.Concat(f, belief, ns.pool_center_lower, axis=1))
            x = getattr(ns, f"concat_stage{t}")
            x = conv_relu(f"Mconv1_stage{t}_new", x, v["stage_channels"], v["stage_kernel"], new=True)
            x = conv_relu(f"Mconv2_stage{t}", x, v["stage_channels"], v["stage_kernel"])
            x = conv_relu(f"Mconv3_stage{t}", x, v["stage_channels"], v["stage_kernel"])
            x = conv_relu(f"Mconv4_stage{t}", x, v["stage_channels"], 1)
            maps = conv_relu(f"Mconv5_stage{t}_new", x, NUM_MAPS, 1, new=True, relu=False)
        if extended and t < T:
            py = dict(module="caffe_layers", layer="Prob3DPoseLayer", param_str=json.dumps(lift))
            setattr(ns, f"probmodel_stage{t}", L.Python(maps, ns.camera, python_param=py))
            fuse = dict(module="caffe_layers", layer="FusionLayer", param_str=json.dumps(
                {"init": 1.0, **({"fusion": fusion} if fusion != "paper" else {})}))
            setattr(ns, f"merge_hm_stage{t}", L.Python(maps, getattr(ns, f"probmodel_stage{t}"), python_param=fuse,
                                                        param=[dict(lr_mult=FUSION_LR_MULT, decay_mult=0)]))
            belief = getattr(ns, f"merge_hm_stage{t}")
        else:
            belief = maps
        if phase == "train":
            setattr(ns, f"loss_stage{t}", L.EuclideanLoss(belief, ns.label))
    if extended:
        py = dict(module="caffe_layers", layer="Prob3DPoseLayer", param_str=json.dumps(lift))
        ns[f"probmodel_stage{T}"], ns.pose3d, ns.joints2d = L.Python(maps, ns.camera, python_param=py, ntop=3,
                                                                      name=f"probmodel_stage{T}")
    name = f"{'lifting' if extended else 'cpm'}_h36m_{variant}_{phase}"
    return f'name: "{name}"\n' + str(ns.to_proto())


def solver(net_path, snapshot_prefix, base_lr=5e-4, max_iter=172980, stepsize=50000, mode="GPU", display=5,
           snapshot=5000, random_seed=None):
    """The authors' SGD-with-momentum solver (``random_seed`` seeds Caffe's fillers and dropout)."""
    return (f'net: "{net_path}"\nbase_lr: {base_lr}\nmomentum: 0.9\nweight_decay: 0.0005\nlr_policy: "step"\n'
            f"stepsize: {stepsize}\ngamma: 0.333\ndisplay: {display}\nmax_iter: {max_iter}\nsnapshot: {snapshot}\n"
            f'snapshot_prefix: "{snapshot_prefix}"\nsolver_mode: {mode}\n'
            + (f"random_seed: {int(random_seed)}\n" if random_seed is not None else ""))
