"""The authors' protocol end to end on a miniature official release (model_fitting/miniature.py): the K=3 and K=1 models
fitted on the official D3_Positions of training subjects, the authors' test set (--protocol authors-test, their crop)
through evaluate-images with a random small extended net and the default (upsampled, Lanczos) scoring, and the
tables that name every run's failed frames."""
import json
import os

import numpy as np
import pytest

import caffe  # noqa: E402  (set-up builds it: a missing Caffe must fail, never skip)

from lifting.image_eval import RunSummary  # noqa: E402
from lifting.model import load_model  # noqa: E402
from lifting_cli.main import main  # noqa: E402
from prototxt import generate  # noqa: E402
from tests.helpers import shared_path  # noqa: E402

PLAN = [("S1", "Directions 1", 0, "S1"), ("S5", "SittingDown", 1, "S5"), ("S6", "Walking", 0, "S1"),
        ("S7", "Eating 1", 1, "S5"), ("S8", "Greeting", 0, "S1"), ("S9", "Directions", 0, "S1"),
        ("S9", "Directions 1", 0, "S1"), ("S11", "Directions", 0, "S1")]


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    from model_fitting.miniature import make_official_tree
    from tests.helpers import shared_path

    root = tmp_path_factory.mktemp("h36m_release_authors_run")
    make_official_tree(str(root), shared_path("data", "h36m_fixture"), PLAN)
    return str(root)


def test_fit_k3_and_k1_on_the_official_d3_poses(release, tmp_path):
    for k in (3, 1):
        out = tmp_path / f"k{k}.h5"
        assert main(["fit", "--h36m-cdf", release, "--subjects", "S1,S5,S6,S7,S8", "-J", "2", "-K", str(k), "-o",
                     str(out)]) == 0
        model = load_model(str(out))
        assert model.num_components == k and model.num_basis == 2
        report = json.loads((tmp_path / f"k{k}.report.json").read_text())
        assert sum(report["component_sizes"]) == 2 * 55  # 11 poses of each of the five subjects, mirrored


def test_authors_test_set_with_the_authors_scoring(release, tmp_path, capsys):
    cams = shared_path("data", "h36m_fixture", "cameras.json")
    test = tmp_path / "test"
    assert main(["h36m-prepare", release, "--cameras", cams, "--out", str(test), "--protocol", "authors-test"]) == 0
    caffe.set_mode_cpu()
    caffe.set_random_seed(0)
    proto = os.path.join(generate.HERE, "lifting_h36m_small_deploy.prototxt")
    weights = str(tmp_path / "w.caffemodel")
    caffe.Net(proto, caffe.TEST).save(weights)
    out = tmp_path / "eval"
    assert main(["evaluate-images", "--data", str(test), "--out", str(out), "--weights", weights, "--prototxt", proto,
                 "--batch", "4"]) == 0
    assert json.loads((out / "run.json").read_text())["scoring"] == "upsampled"
    f = np.load(out / "frames.npz")
    assert len(f["action"]) == 12 + 12 + 9 and np.isfinite(f["argmax2d_px"]).all()
    md = (out / "results.md").read_text()
    s = json.loads((out / "results.json").read_text())["runs"]
    label, summary = next(iter(s.items()))
    summary = RunSummary.from_json(summary, f"results.json: runs[{label!r}]")
    assert "2D upsampled (Lanczos) argmax" in label
    failed = summary.not_lifted
    assert summary.p1.frames == 33  # every frame counted, failed or not
    assert f"{label}: MPJPE (P1), 33 frames, {failed} failed |" in md
    assert f"| {label}: argmax of the last stage's belief maps (33 frames) |" in md
    assert main(["paper-tables", "--run", f"ours={out}", "-o", str(tmp_path / "tables")]) == 0
    assert f"| ours: MPJPE (P1), 33 frames, {failed} failed |" in (tmp_path / "tables.md").read_text()
