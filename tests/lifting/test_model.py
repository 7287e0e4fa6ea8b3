import os

import h5py
import numpy as np
import pytest

from lifting.lift import Lifter
from lifting.model import ModelFileError, PoseModel, import_authors_model, load_model
from lifting.synthetic import make_model
from tests.helpers import shared_path


def test_save_load_round_trip_is_exact_and_atomic(tmp_path):
    m = make_model(K=2, J=4)
    m.provenance = {"source": "test"}
    path = tmp_path / "m.h5"
    m.save(path)
    assert sorted(os.listdir(tmp_path)) == ["m.h5"]  # no temporary file left behind
    r = PoseModel.load(path)
    for name in ("mean", "basis", "variances", "noise_variance", "weights"):
        np.testing.assert_array_equal(getattr(r, name), getattr(m, name))
    assert r.mm_per_unit == m.mm_per_unit and r.provenance == {"source": "test"}


def _write_and_corrupt(tmp_path, edit):
    path = tmp_path / "m.h5"
    make_model(K=2, J=4).save(path)
    with h5py.File(path, "a") as f:
        edit(f)
    return path


@pytest.mark.parametrize("edit,match", [
    (lambda f: f.__delitem__("basis"), "field 'basis' is missing"),
    (lambda f: (f.__delitem__("variances"), f.create_dataset("variances", data=np.ones((2, 5)))),
     "field 'variances' must have shape"),
    (lambda f: f["mean"].__setitem__((0, 3, 1), np.nan), "field 'mean' holds non-finite"),
    (lambda f: f["basis"].__setitem__((0, 0, 3, 1), 5.0), "not orthonormal"),
    (lambda f: f["noise_variance"].__setitem__(0, -1.0), "noise_variance"),
    (lambda f: f.attrs.__delitem__("format_version"), "format_version"),
    (lambda f: f.attrs.__setitem__("joint_names", np.array(["a"] * 17, dtype=h5py.string_dtype())), "joint_names"),
])
def test_bad_model_files_name_file_and_field(tmp_path, edit, match):
    path = _write_and_corrupt(tmp_path, edit)
    with pytest.raises(ModelFileError, match=match) as e:
        PoseModel.load(path)
    assert str(path) in str(e.value)


def test_not_a_model_file(tmp_path):
    p = tmp_path / "x.h5"
    p.write_bytes(b"not hdf5")
    with pytest.raises(ModelFileError, match="not a readable HDF5"):
        PoseModel.load(p)
    with pytest.raises(ModelFileError, match="no such model file"):
        PoseModel.load(tmp_path / "missing.h5")


def test_authors_model_imports_and_lifts():
    m = import_authors_model(shared_path("data", "prob_model_params.mat"))
    assert (m.num_components, m.num_basis) == (3, 25)
    assert 900 < m.mm_per_unit < 1100
    # the mean poses are upright in our frame: head above the feet
    assert np.all(m.mean[:, 10, 1] > m.mean[:, 3, 1] + 0.3)
    # its first coefficient variance is the largest, as the inverse std in 'sigma' is the smallest
    assert np.all(np.argmax(m.variances, axis=1) == 0)
    r = Lifter(m).lift(np.stack([m.mean[0, :, :2] * [1, -1]]) * 100)
    assert r.status[0] == 0


def test_default_model_is_shipped_with_provenance():
    m = load_model()
    assert m.num_components == 3 and m.num_basis == 24
    prov = m.provenance
    assert prov["fitted_by"] == "model_fitting.fit"
    assert prov["inputs"]["subjects"] == ["S1", "S5", "S6", "S7", "S8"]  # never S9
