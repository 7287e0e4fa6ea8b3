"""The prepared-dataset format: shards and manifest round-trip; every defect is named by file and field."""
import json

import h5py
import numpy as np
import pytest

from lifting.dataset import FIELDS, DatasetError, PreparedDataset, shard_info, write_manifest, write_shard


def arrays(n, rng):
    out = {}
    for name, (shape, dtype) in FIELDS.items():
        out[name] = np.array([b"54138969"] * n) if name == "camera" else rng.uniform(0, 9, (n,) + shape).astype(dtype)
    return out


@pytest.fixture
def folder(tmp_path, rng):
    for k, n in enumerate((3, 2)):
        write_shard(tmp_path / "shards" / f"s{k}.h5", [bytes([k, i]) for i in range(n)], arrays(n, rng), "S1",
                    "walking", f"Walking {k}", report={"cameras": {"54138969": n}})
    write_manifest(tmp_path, {"format_version": 1, "complete": True,
                              "shards": [{"file": "shards/s0.h5", "samples": 3},
                                         {"file": "shards/s1.h5", "samples": 2}]})
    return tmp_path


def test_round_trip(folder):
    d = PreparedDataset(folder)
    assert len(d) == 5 and d.locate(3) == (str(folder / "shards" / "s1.h5"), 0)
    assert d.sample(4)["jpeg"] == bytes([1, 1]) and d.sample(4)["E"].shape == (3, 3)
    m = d.meta(2)
    assert (m["subject"], m["action"], m["sequence"], m["camera"]) == ("S1", "walking", "Walking 0", "54138969")
    assert shard_info(folder / "shards" / "s1.h5") == (2, {"cameras": {"54138969": 2}})
    with pytest.raises(IndexError):
        d.sample(5)


def test_defects_are_named(folder, tmp_path, rng):
    with pytest.raises(DatasetError, match="no dataset.json: not a prepared dataset"):
        PreparedDataset(tmp_path / "shards")
    m = json.loads((folder / "dataset.json").read_text())
    write_manifest(folder, {**m, "complete": False})
    with pytest.raises(DatasetError, match="incomplete"):
        PreparedDataset(folder)
    write_manifest(folder, {**m, "format_version": 7})
    with pytest.raises(DatasetError, match="format_version 7"):
        PreparedDataset(folder)
    write_manifest(folder, {**m, "shards": m["shards"] + [{"file": "shards/gone.h5", "samples": 1}]})
    with pytest.raises(DatasetError, match="gone.h5: no such HDF5 shard"):
        PreparedDataset(folder)
    write_manifest(folder, {**m, "shards": [{"file": "shards/s0.h5", "samples": 4}]})
    with pytest.raises(DatasetError, match=r"s0.h5: field 'jpeg' has shape \(3,\), the manifest says \(4,\)"):
        PreparedDataset(folder)
    write_manifest(folder, m)
    with h5py.File(folder / "shards" / "s1.h5", "a") as f:
        del f["E"]
    with pytest.raises(DatasetError, match="s1.h5: field 'E' is missing"):
        PreparedDataset(folder)
    bad = arrays(2, rng)
    bad["joints2d"] = bad["joints2d"][:, :16]
    with pytest.raises(DatasetError, match=r"x.h5: field 'joints2d' must have shape \(2, 17, 2\), got \(2, 16, 2\)"):
        write_shard(tmp_path / "x.h5", [b"a", b"b"], bad, "S1", "walking", "Walking")
    assert not (tmp_path / "x.h5").exists()
