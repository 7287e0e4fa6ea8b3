"""Numbers that cannot be right are refused where they are read: 3D poses whose size is not a person's (the units are
wrong: metres or centimetres given as millimetres, or the values are garbage), pose models whose variances collapsed
or whose mean pose is not a body, 2D keypoints that are not finite, real, bounded numbers.

The size of a 3D pose is its limb scale (:func:`lifting.skeleton.limb_scale`: the square root of the sum of its
squared limb lengths), which does not depend on the pose's posture: 1147 mm for every Human3.6M subject of the shared
data (people about 1.7 m tall). A person from a small child to the tallest adult lies well inside
:data:`LIMB_SCALE_MM`. Every refusal is a ``ValueError`` whose message names the file and the reason.
"""
from __future__ import annotations

import numpy as np

from . import skeleton

#: the limb scale of a person in millimetres, [smallest, largest] accepted (a person about 0.6 m to 3.7 m tall)
LIMB_SCALE_MM = (400.0, 2500.0)
#: a person's height over its limb scale (1.7 m / 1147 mm on Human3.6M), only to say the height in messages
HEIGHT_PER_LIMB_SCALE = 1.5
#: no limb of a body is longer than this fraction of its limb scale (the thigh: about 0.39)
MAX_LIMB_FRACTION = 0.7
#: the smallest standard deviation, in mm, of a varying basis coefficient; a component with fewer than two (J >= 2)
#: has collapsed (fitted on copies of one pose) and would lift one pose for every input
MIN_BASIS_STD_MM = 0.01
#: the smallest residual noise standard deviation, in mm: numerically zero (poses drawn exactly from a lower-dimensional
#: model, as in tests, legitimately give about 0.001 mm; real motion capture gives millimetres)
MIN_NOISE_STD_MM = 1e-4
#: the largest magnitude accepted for a 2D coordinate in pixels (a 100,000 px image is already far beyond any camera)
MAX_PIXELS = 1e6


def _units_hint(scale_mm):
    if scale_mm < LIMB_SCALE_MM[0]:
        for unit, factor in (("metres", 1000.0), ("centimetres", 10.0), ("inches", 25.4)):
            if LIMB_SCALE_MM[0] <= scale_mm * factor <= LIMB_SCALE_MM[1]:
                return f"; are the values in {unit}, not millimetres?"
    return "; the values are not millimetres of a person"


def _height(scale_mm):
    return f"a person about {scale_mm * HEIGHT_PER_LIMB_SCALE / 1000:.3g} m tall"


def check_poses_mm(poses, name):
    """3D poses ``(N, 17, 3)`` said to be in millimetres: real, finite, and every pose the size of a person.
    Returns them as float64."""
    poses = np.asarray(poses)
    if np.iscomplexobj(poses):
        raise ValueError(f"{name}: holds complex numbers; 3D poses must be real millimetres")
    poses = poses.astype(np.float64)
    if poses.ndim != 3 or poses.shape[1:] != (skeleton.NUM_JOINTS, 3):
        raise ValueError(f"{name}: 3D poses must have shape (N, {skeleton.NUM_JOINTS}, 3), got {poses.shape}")
    bad = ~np.isfinite(poses).all(axis=(1, 2))
    if bad.any():
        raise ValueError(f"{name}: {int(bad.sum())} poses hold NaN or inf (first: pose {int(np.flatnonzero(bad)[0])})")
    with np.errstate(over="ignore", invalid="ignore"):
        scale = skeleton.limb_scale(poses)
    lo, hi = LIMB_SCALE_MM
    bad = ~((scale >= lo) & (scale <= hi))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{name}: {int(bad.sum())} of {len(poses)} poses are not the size of a person "
                         f"(first: pose {i}, "
                         f"limb scale {scale[i]:.4g} mm, {_height(scale[i])}; accepted {lo:g}..{hi:g} mm)"
                         + _units_hint(float(np.median(scale))))
    return poses


def check_model(model, name, exempt=()):
    """A pose model (:class:`lifting.model.PoseModel`) that can be right: ``mm_per_unit`` the limb scale of a person,
    every component mean a body (no limb longer than :data:`MAX_LIMB_FRACTION` of the limb scale), no collapsed
    component (at least two basis coefficients with a standard deviation of :data:`MIN_BASIS_STD_MM` mm, a residual
    noise of at least :data:`MIN_NOISE_STD_MM` mm). ``exempt``:
    components whose variances are known to be undetermined and were accepted (``fit --force``)."""
    mm = float(model.mm_per_unit)
    lo, hi = LIMB_SCALE_MM
    for k, mean in enumerate(model.mean):
        limbs = skeleton.limb_lengths(mean)
        scale = float(np.sqrt(np.sum(limbs**2)))
        if not lo <= scale * mm <= hi or limbs.max() > MAX_LIMB_FRACTION * scale:
            j = int(np.argmax(limbs))
            child, parent = skeleton.LIMBS[j]
            raise ValueError(f"{name}: the mean pose of component {k} is not a body (limb scale {scale * mm:.4g} mm; "
                             f"limb {skeleton.JOINT_NAMES[parent]}-{skeleton.JOINT_NAMES[child]} "
                             f"{limbs[j] * mm:.4g} mm long): a corrupted file")
    if not lo <= mm <= hi:
        raise ValueError(f"{name}: mm_per_unit {mm:.4g} is not the limb scale of a person ({lo:g}..{hi:g} mm, "
                         f"{_height(mm)}): its poses were not millimetres" + _units_hint(mm))
    basis_std = np.sqrt(np.asarray(model.variances, np.float64)) * mm
    noise_std = np.sqrt(np.asarray(model.noise_variance, np.float64)) * mm
    for k in range(len(noise_std)):
        if k in exempt:
            continue
        varying = int(np.sum(basis_std[k] >= MIN_BASIS_STD_MM))
        if varying < min(basis_std.shape[1], 2):
            raise ValueError(f"{name}: component {k}: only {varying} of its {basis_std.shape[1]} basis coefficients "
                             f"vary (standard deviations {np.array2string(basis_std[k], precision=3)} mm; at least "
                             f"{MIN_BASIS_STD_MM} mm each): the component collapsed (fitted on copies of too few "
                             "distinct poses) and would give one pose for every input; fit on more varied poses")
        if noise_std[k] < MIN_NOISE_STD_MM:
            raise ValueError(f"{name}: component {k}: residual noise standard deviation {noise_std[k]:.3g} mm (below "
                             f"{MIN_NOISE_STD_MM} mm): the component collapsed (too few distinct poses); fit on more "
                             "varied poses or with a smaller -J")


def check_keypoints_2d(points, name):
    """2D keypoints ``(..., 2)`` in pixels: real, and where given (not NaN: missing) finite and within
    :data:`MAX_PIXELS`. Returns them as float64."""
    points = np.asarray(points)
    if np.iscomplexobj(points):
        raise ValueError(f"{name}: holds complex numbers; keypoints must be real pixel coordinates")
    if points.dtype == object or not (np.issubdtype(points.dtype, np.number) or points.dtype == bool):
        raise ValueError(f"{name}: keypoints must be numbers, got {points.dtype}")
    points = points.astype(np.float64)
    bad = np.isinf(points) | (np.abs(np.nan_to_num(points)) > MAX_PIXELS)
    if bad.any():
        idx = tuple(int(v) for v in np.argwhere(bad)[0])
        raise ValueError(f"{name}: {int(bad.sum())} coordinates are infinite or beyond {MAX_PIXELS:g} px (first: "
                         f"{points[idx]:g} at index {idx}); keypoints must be pixel coordinates (NaN or empty = "
                         "missing)")
    return points
