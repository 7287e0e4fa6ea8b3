"""The 3D pose model: a mixture of probabilistic PCA components, and its one file format (HDF5).

Model space (paper sec. 4): root (Hip) at the origin, y axis up, every pose scaled so that the sum of its squared
limb lengths is 1. ``mm_per_unit`` converts model units to millimetres (the mean limb scale of the training data).

File format (``format_version`` 1), HDF5 written with h5py::

    /mean            float64 (K, 17, 3)     component mean poses
    /basis           float64 (K, J, 17, 3)  basis poses; per component orthonormal as 51-vectors
    /variances       float64 (K, J)         prior variance of each basis coefficient
    /noise_variance  float64 (K,)           isotropic residual variance (per coordinate)
    /weights         float64 (K,)           mixing weights, sum 1
    attributes: format_version (int), joint_names (17 str), parents (17 int),
                units (str), mm_per_unit (float), provenance (JSON str)
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

import numpy as np

from . import skeleton
from .files import atomic_path
from .geometry import z_up_to_y_up

FORMAT_VERSION = 1
UNITS = "normalised: root-centred, y up, sum of squared limb lengths = 1"


class ModelFileError(ValueError):
    """A pose-model file is missing a field or holds a bad value; the message names file and field."""


@dataclass
class PoseModel:
    """Mixture of K PPCA components with J basis poses each (all arrays float64).

    Attributes:
        mean: ``(K, 17, 3)``; basis: ``(K, J, 17, 3)``; variances: ``(K, J)``; noise_variance: ``(K,)``;
        weights: ``(K,)``; mm_per_unit: millimetres per model unit; provenance: free JSON-able dict.
    """

    mean: np.ndarray
    basis: np.ndarray
    variances: np.ndarray
    noise_variance: np.ndarray
    weights: np.ndarray
    mm_per_unit: float = 1.0
    provenance: dict = field(default_factory=dict)
    joint_names: tuple = skeleton.JOINT_NAMES

    def __post_init__(self):
        self.mean = np.asarray(self.mean, np.float64)
        self.basis = np.asarray(self.basis, np.float64)
        self.variances = np.asarray(self.variances, np.float64)
        self.noise_variance = np.asarray(self.noise_variance, np.float64).reshape(-1)
        self.weights = np.asarray(self.weights, np.float64).reshape(-1)
        self.validate()

    @property
    def num_components(self) -> int:
        return self.mean.shape[0]

    @property
    def num_basis(self) -> int:
        return self.basis.shape[1]

    def validate(self, source="PoseModel"):
        """Check shapes, finiteness, positivity and orthonormality; raise ModelFileError naming the field."""
        L = skeleton.NUM_JOINTS
        if self.mean.ndim != 3 or self.mean.shape[1:] != (L, 3):
            raise ModelFileError(f"{source}: field 'mean' must have shape (K, {L}, 3), got {self.mean.shape}")
        K = self.mean.shape[0]
        if K < 1:
            raise ModelFileError(f"{source}: field 'mean' has no component")
        if self.basis.ndim != 4 or self.basis.shape[0] != K or self.basis.shape[2:] != (L, 3):
            raise ModelFileError(f"{source}: field 'basis' must have shape ({K}, J, {L}, 3), got {self.basis.shape}")
        Jb = self.basis.shape[1]
        if Jb > 3 * L:
            raise ModelFileError(f"{source}: field 'basis' has J={Jb} > {3 * L} basis poses")
        expect = {"variances": (K, Jb), "noise_variance": (K,), "weights": (K,)}
        for name, shape in expect.items():
            if getattr(self, name).shape != shape:
                raise ModelFileError(f"{source}: field {name!r} must have shape {shape}, "
                                     f"got {getattr(self, name).shape}")
        for name in ("mean", "basis", "variances", "noise_variance", "weights"):
            if not np.all(np.isfinite(getattr(self, name))):
                raise ModelFileError(f"{source}: field {name!r} holds non-finite values")
        if np.any(self.variances <= 0):
            raise ModelFileError(f"{source}: field 'variances' must be > 0, min is {self.variances.min():g}")
        if np.any(self.noise_variance <= 0):
            raise ModelFileError(f"{source}: field 'noise_variance' must be > 0, min is {self.noise_variance.min():g}")
        if np.any(self.weights < 0) or abs(self.weights.sum() - 1) > 1e-6:
            raise ModelFileError(f"{source}: field 'weights' must be >= 0 and sum to 1, got {self.weights}")
        B = self.basis.reshape(K, Jb, -1)
        gram = B @ B.transpose(0, 2, 1)
        err = np.abs(gram - np.eye(Jb)).max() if Jb else 0.0
        if err > 1e-6:
            raise ModelFileError(f"{source}: field 'basis' is not orthonormal (max |B B^T - I| = {err:.3g})")
        if not (np.isfinite(self.mm_per_unit) and self.mm_per_unit > 0):
            raise ModelFileError(f"{source}: attribute 'mm_per_unit' must be a positive number, got {self.mm_per_unit}")
        if tuple(self.joint_names) != skeleton.JOINT_NAMES:
            raise ModelFileError(f"{source}: attribute 'joint_names' {list(self.joint_names)} differs from the "
                                 f"project skeleton {list(skeleton.JOINT_NAMES)}")

    def subset(self, components):
        """A model with only the given components (weights renormalised)."""
        c = np.atleast_1d(components)
        w = self.weights[c]
        return PoseModel(self.mean[c], self.basis[c], self.variances[c], self.noise_variance[c], w / w.sum(),
                         self.mm_per_unit, dict(self.provenance, subset=[int(i) for i in c]))

    # ---- file IO ----------------------------------------------------------------------------------------
    def save(self, path):
        """Write atomically (temporary file in the same folder, then rename)."""
        import h5py

        with atomic_path(path) as tmp, h5py.File(tmp, "w") as f:
            for name in ("mean", "basis", "variances", "noise_variance", "weights"):
                f.create_dataset(name, data=getattr(self, name))
            f.attrs["format_version"] = FORMAT_VERSION
            f.attrs["joint_names"] = np.array(self.joint_names, dtype=h5py.string_dtype())
            f.attrs["parents"] = np.array(skeleton.PARENTS, dtype=np.int64)
            f.attrs["units"] = UNITS
            f.attrs["mm_per_unit"] = float(self.mm_per_unit)
            f.attrs["provenance"] = json.dumps(self.provenance, sort_keys=True, default=str)

    @classmethod
    def load(cls, path):
        """Read and validate a model file; errors name the file and the field."""
        import h5py

        path = os.fspath(path)
        if not os.path.exists(path):
            raise ModelFileError(f"{path}: no such model file")
        try:
            f = h5py.File(path, "r")
        except OSError as e:
            raise ModelFileError(f"{path}: not a readable HDF5 pose-model file ({e})") from None
        with f:
            version = f.attrs.get("format_version")
            if version is None:
                raise ModelFileError(f"{path}: attribute 'format_version' is missing")
            if int(version) != FORMAT_VERSION:
                raise ModelFileError(f"{path}: format_version {int(version)} is not supported "
                                     f"(expected {FORMAT_VERSION})")
            arrays = {}
            for name in ("mean", "basis", "variances", "noise_variance", "weights"):
                if name not in f:
                    raise ModelFileError(f"{path}: field {name!r} is missing")
                arrays[name] = f[name][()]
            for attr in ("joint_names", "mm_per_unit"):
                if attr not in f.attrs:
                    raise ModelFileError(f"{path}: attribute {attr!r} is missing")
            names = tuple(n.decode() if isinstance(n, bytes) else str(n) for n in f.attrs["joint_names"])
            mm = float(f.attrs["mm_per_unit"])
            prov = json.loads(f.attrs.get("provenance", "{}"))
        try:
            return cls(**arrays, mm_per_unit=mm, provenance=prov, joint_names=names)
        except ModelFileError as e:
            raise ModelFileError(str(e).replace("PoseModel", path, 1)) from None


def default_model_path():
    """Path of the model shipped inside the package."""
    return os.path.join(os.path.dirname(__file__), "data", "default_model.h5")


def load_model(path=None) -> PoseModel:
    """Load ``path``, or the shipped default model when ``path`` is None."""
    return PoseModel.load(path or default_model_path())


def import_authors_model(mat_path) -> PoseModel:
    """Import the authors' released ``prob_model_params.mat`` into our format.

    Their arrays (K = 3, J = 25, 17 joints, millimetres, z up, root-centred):
      ``mu (K, 51)``: mean, reshaped (3, 17) coordinate-major -> our ``mean[k] = mu[k].reshape(3, 17).T``;
      ``e (K, J, 51)``: orthonormal basis, reshaped the same way -> ``basis``;
      ``sigma (K, J + 1)``: INVERSE standard deviations; ``variances = 1 / sigma[:, :J]**2``,
      ``noise_variance = 1 / sigma[:, J]**2``.
    Axes: their z up becomes our y up, (x, y, z) -> (x, z, -y) (a rotation: a right-handed body stays one; their
    mean has the right hip at +x while facing +y with z up, i.e. a real body). Units: all lengths are divided by
    ``c`` = mean limb scale of the component means (variances by ``c**2``), and ``mm_per_unit = c``. Mixing
    weights are not in the file: uniform.
    """
    from scipy.io import loadmat

    mat_path = os.fspath(mat_path)
    if not os.path.isfile(mat_path):
        raise ModelFileError(f"{mat_path}: " + ("is a folder" if os.path.isdir(mat_path) else "no such file"))
    try:
        m = loadmat(mat_path)
    except Exception as e:  # scipy raises many types on empty, truncated or foreign files
        raise ModelFileError(f"{mat_path}: not a readable MATLAB file (empty, truncated or another format: "
                             f"{type(e).__name__}: {e})") from None
    for key in ("mu", "e", "sigma"):
        if key not in m:
            raise ModelFileError(f"{mat_path}: field {key!r} is missing")
    for key in ("mu", "e", "sigma"):
        a = np.asarray(m[key])
        if np.iscomplexobj(a) or not np.issubdtype(a.dtype, np.number):
            raise ModelFileError(f"{mat_path}: field {key!r} must hold real numbers, got {a.dtype}")
        if not np.isfinite(a).all():
            raise ModelFileError(f"{mat_path}: field {key!r} holds NaN or inf")
    mu, e, sigma = (np.asarray(m[k], np.float64) for k in ("mu", "e", "sigma"))
    K, Jb = e.shape[0], e.shape[1]
    L = skeleton.NUM_JOINTS
    if mu.shape != (K, 3 * L) or e.shape != (K, Jb, 3 * L) or sigma.shape != (K, Jb + 1):
        raise ModelFileError(f"{mat_path}: unexpected shapes mu {mu.shape}, e {e.shape}, sigma {sigma.shape}")
    if np.any(sigma <= 0):
        k, j = (int(v) for v in np.argwhere(sigma <= 0)[0])
        raise ModelFileError(f"{mat_path}: field 'sigma' holds {int(np.sum(sigma <= 0))} values <= 0 (first: "
                             f"{sigma[k, j]:g} at [{k}, {j}]); they are inverse standard deviations, > 0")
    mean = z_up_to_y_up(mu.reshape(K, 3, L).transpose(0, 2, 1))
    basis = z_up_to_y_up(e.reshape(K, Jb, 3, L).transpose(0, 1, 3, 2))
    c = float(np.mean(skeleton.limb_scale(mean)))
    if not c > 0:
        raise ModelFileError(f"{mat_path}: field 'mu' holds mean poses of size 0")
    try:
        model = PoseModel(
            mean=mean / c,
            basis=basis,
            variances=1.0 / sigma[:, :Jb] ** 2 / c**2,
            noise_variance=1.0 / sigma[:, Jb] ** 2 / c**2,
            weights=np.full(K, 1.0 / K),
            mm_per_unit=c,
            provenance={"source": "authors' prob_model_params.mat (Tome et al. 2017 demo release)",
                        "file": os.path.basename(os.fspath(mat_path)),
                        "converted_by": "lifting.model.import_authors_model"},
        )
    except ModelFileError as err:  # the message names the .mat, not "PoseModel"
        raise ModelFileError(str(err).replace("PoseModel", f"{mat_path} (imported)", 1)) from None
    from .plausible import check_model

    try:
        check_model(model, f"{mat_path} (imported)")
    except ValueError as err:
        raise ModelFileError(str(err)) from None
    return model
