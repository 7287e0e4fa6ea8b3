import glob
import json
import os

import numpy as np
import pytest

from lifting import metrics, skeleton
from lifting.geometry import project
from lifting.synthetic import make_model, sample_poses
from model_fitting.evaluate import evaluate, evaluate_models, project_random, resolve_model
from model_fitting.views import LiftAccuracy, summarise
from tests.helpers import shared_path


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """A 2-component model (poses are drawn from its component 0) and a model that never produced them."""
    folder = tmp_path_factory.mktemp("models")
    true, wrong = make_model(K=2, J=3, seed=31, noise=1e-6), make_model(K=1, J=3, seed=32, noise=1e-6)
    true.save(folder / "true.h5")
    wrong.save(folder / "wrong.h5")
    return true, str(folder / "true.h5"), str(folder / "wrong.h5")


def test_resolve_model_specs(models):
    true, path, _ = models
    name, m = resolve_model(f"mine K=2={path}")
    assert name == "mine K=2" and m.num_components == 2
    name, m1 = resolve_model(f"comp=1={path}:1")  # NAME=PATH:k keeps component k, weight 1
    assert name == "comp=1" and m1.num_components == 1 and m1.weights.tolist() == [1.0]
    np.testing.assert_array_equal(m1.mean[0], true.mean[1])
    np.testing.assert_array_equal(m1.basis[0], true.basis[1])
    assert resolve_model("d=default")[1].num_components == 3
    with pytest.raises(ValueError, match="no component 2 \\(the model has 2\\)"):
        resolve_model(f"x={path}:2")
    with pytest.raises(ValueError, match="expects NAME=PATH"):
        resolve_model(path)


def test_project_random_rotates_about_the_root_and_projects(rng):
    poses = rng.normal(size=(50, 17, 3)) * 200 + 500
    truth, y = project_random(poses, seed=3)
    np.testing.assert_allclose(truth[:, 0], 0, atol=1e-9)
    np.testing.assert_allclose(np.linalg.norm(truth, axis=-1), np.linalg.norm(poses - poses[:, :1], axis=-1))
    np.testing.assert_allclose(truth[..., 1], (poses - poses[:, :1])[..., 1])  # a ground-plane rotation
    np.testing.assert_array_equal(y, project(truth))
    _, noisy = project_random(poses, seed=3, noise_mm=20.0)
    assert np.std(noisy - y) == pytest.approx(20.0, rel=0.1)


def _npz(path, canon_mm, actions):
    """Poses (y up, real handedness) in the shared file's layout: z up and mirrored, as load_h36m_npz expects."""
    x, y, z = canon_mm[..., 0], canon_mm[..., 1], canon_mm[..., 2]
    np.savez(path, positions_17=np.stack([-x, -z, y], -1).astype(np.float32), subject=np.full(len(actions), "S9"),
             action=np.array(actions))


def test_the_generating_model_wins_and_every_table_is_written(models, tmp_path):
    true, path, wrong_path = models
    canon, _, _, _ = sample_poses(true, 40, seed=5, k=0)
    actions = ["walking_1"] * 20 + ["SittingDown 2"] * 20
    _npz(tmp_path / "poses.npz", canon * 1000.0, actions)
    out = evaluate_models([resolve_model(f"true={path}"), resolve_model(f"wrong={wrong_path}")],
                          str(tmp_path / "eval"), h36m_npz=str(tmp_path / "poses.npz"), subjects=["S9"], log=None)
    assert json.loads((tmp_path / "eval.json").read_text()) == json.loads(json.dumps(out))
    h = out["h36m"]
    assert h["frames"] == 40 and h["subjects"] == ["S9"]
    table = h["p_mpjpe"]["true"]["per_action"]
    assert set(table) == {"walking", "sittingdown"} and table["walking"]["frames"] == 20
    # the model the poses came from explains them
    assert h["p_mpjpe"]["true"]["frame_mean_mm"] < 0.2 * h["p_mpjpe"]["wrong"]["frame_mean_mm"]
    md = (tmp_path / "eval.md").read_text()
    assert "| true |" in md and "| wrong |" in md and "Sitting Down" in md
    assert (tmp_path / "eval.csv").read_text().count("Method,Directions") == 2  # P-MPJPE and MPJPE tables


def test_evaluate_reports_per_frame_errors(models):
    true, _, _ = models
    canon, _, _, _ = sample_poses(true, 30, seed=6)
    truth, y = project_random(canon * 1000.0, seed=1)
    err, res = evaluate(true, truth, y)
    mp, pm = err["mpjpe"], err["p_mpjpe"]
    assert mp.shape == pm.shape == (30,) and np.all(res.status == 0) and err["ok"].all()
    np.testing.assert_allclose(mp, metrics.mpjpe(res.pose3d_mm, truth))
    assert np.all(pm <= mp + 1e-9)  # Procrustes can only help
    np.testing.assert_allclose(err["limb_ratio"], skeleton.limb_scale(res.pose3d_mm) / skeleton.limb_scale(truth))


def test_cmu_folders_are_evaluated(models, tmp_path):
    true, path, _ = models
    folder = shared_path("data", "cmu", "03")
    out = evaluate_models([("true", true)], str(tmp_path / "cmu"), cmu=[folder], cmu_step=200, log=None)
    row = out["cmu"]["true"][folder]
    assert row["poses"] > 10 and np.isfinite(row["mpjpe"]) and row["p_mpjpe"] <= row["mpjpe"]
    assert "| true (03) |" in (tmp_path / "cmu.md").read_text()


ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_lift_accuracy_summary_by_hand():
    """Five frames, one not lifted: means and medians over the four lifted ones; limb ratios 1, 1.6, 0.6 and 0.7 put
    1.6 (> 1.5) and 0.6 (< 1 / 1.5) off; the JSON form has the written keys, ``scale_off_1.5x`` included."""
    nan = np.nan
    err = {"mpjpe": np.array([10.0, 20.0, 40.0, 50.0, nan]), "p_mpjpe": np.array([1.0, 2.0, 3.0, 10.0, nan]),
           "limb_ratio": np.array([1.0, 1.6, 0.6, 0.7, nan]), "ok": np.array([True, True, True, True, False])}
    s = summarise(err)
    assert (s.frames, s.failed) == (5, 1)
    assert s.mpjpe_mean == pytest.approx(30.0) and s.mpjpe_median == pytest.approx(30.0)
    assert s.p_mpjpe_mean == pytest.approx(4.0) and s.p_mpjpe_median == pytest.approx(2.5)
    assert s.scale_off_1_5x == pytest.approx(0.5)
    js = s.to_json()
    assert list(js) == ["frames", "failed", "mpjpe_mean", "mpjpe_median", "p_mpjpe_mean", "p_mpjpe_median",
                        "scale_off_1.5x"]
    assert js["scale_off_1.5x"] == pytest.approx(0.5)
    assert LiftAccuracy.from_json(json.loads(json.dumps(js))) == s
    none = summarise({**err, "ok": np.zeros(5, bool)})
    assert none.to_json() == {"frames": 5, "failed": 5, "mpjpe_mean": None, "mpjpe_median": None,
                              "p_mpjpe_mean": None, "p_mpjpe_median": None, "scale_off_1.5x": None}
    assert LiftAccuracy.from_json(none.to_json()) == none


def _committed_lift_accuracies():
    """Every LiftAccuracy of the committed results: ``(where, dict)``."""
    found = []
    for path in sorted(glob.glob(os.path.join(ROOT, "results", "eval_*.json"))):
        with open(path) as fh:
            data = json.load(fh)
        found += [(f"{path}: h36m.summary[{k!r}]", v) for k, v in data.get("h36m", {}).get("summary", {}).items()]
        found += [(f"{path}: cmu[{k!r}][{f!r}].summary", v["summary"]) for k, by in data.get("cmu", {}).items()
                  for f, v in by.items()]
    path = os.path.join(ROOT, "results", "model_selection.json")
    with open(path) as fh:
        data = json.load(fh)
    found += [(f"{path}: rows[{i}].by_noise_mm[{mm!r}]", v) for i, r in enumerate(data["rows"])
              for mm, v in r["by_noise_mm"].items()]
    return found


def test_committed_fitting_results_round_trip():
    """The committed evaluation tables (``lifting evaluate``'s results/eval_*.json, scripts/model_selection.py's
    results/model_selection.json) read back into LiftAccuracy records that write the same JSON: a drift of the format
    fails here."""
    found = _committed_lift_accuracies()
    assert len(found) > 20 and any("cmu[" in where for where, _ in found)
    for where, js in found:
        assert LiftAccuracy.from_json(js, where).to_json() == js, where


@pytest.mark.parametrize("damage, message", [
    (lambda js: js.pop("scale_off_1.5x"), r"eval\.json: field 'scale_off_1\.5x' missing"),
    (lambda js: js.update(scale_off_1_5x=0.0), r"eval\.json: unexpected field 'scale_off_1_5x'"),
    (lambda js: js.update(failed=-1), r"eval\.json\.failed: expected a count .*-1"),
    (lambda js: js.update(mpjpe_median="12"), r"eval\.json\.mpjpe_median: expected a finite number or null"),
])
def test_lift_accuracy_from_json_names_the_bad_field(damage, message):
    js = summarise({"mpjpe": np.ones(3), "p_mpjpe": np.ones(3), "limb_ratio": np.ones(3),
                    "ok": np.ones(3, bool)}).to_json()
    damage(js)
    with pytest.raises(ValueError, match=message):
        LiftAccuracy.from_json(js, "eval.json")
