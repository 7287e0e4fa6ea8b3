"""Hand-worked cases of the image evaluation: protocol 1 and 2 for a known rotation, scale and translation, the crop ->
frame mapping, per-action and per-stage aggregation, and the tables beside the paper's numbers."""
import dataclasses
import json
import os

import numpy as np
import pytest

from lifting import image_eval, metrics, paper, skeleton

#: four joints in a plane; the prediction stretches the y axis 3x
GT = np.array([[1.0, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0]])
PRED = np.array([[1.0, 0, 0], [-1, 0, 0], [0, 3, 0], [0, -3, 0]])


def rot_z(deg):
    a = np.radians(deg)
    return np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])


def test_protocols_on_a_hand_worked_pose():
    # P1, root = joint 0: relative to it the truth is (0,0),(-2,0),(-1,1),(-1,-1), the prediction (0,0),(-2,0),(-1,3),
    # (-1,-3): errors 0, 0, 2, 2 -> 1.
    assert metrics.mpjpe(PRED[None], GT[None])[0] == pytest.approx(1.0)
    # P2: both centred at the origin, X^T Y = diag(2, 6, 0) -> R = I, s = (2 + 6) / (2 + 18) = 0.4; aligned
    # (+-0.4, 0), (0, +-1.2): errors 0.6, 0.6, 0.2, 0.2 -> 0.4.
    assert metrics.p_mpjpe(PRED[None], GT[None])[0] == pytest.approx(0.4)
    # a known similarity of the prediction (rotation 90 deg about z, scale 2, translation) leaves P2 unchanged ...
    moved = 2.0 * PRED @ rot_z(90).T + [10.0, 20.0, 30.0]
    assert metrics.p_mpjpe(moved[None], GT[None])[0] == pytest.approx(0.4)
    # ... while P1 sees it: root-relative the moved prediction is (0,0),(0,-4),(-6,-2),(6,-2) (x,y; 90 deg: (x,y) ->
    # (-y,x), times 2): errors 0, |(0,-4)-(-2,0)| = sqrt 20, |(-6,-2)-(-1,1)| = sqrt 34, |(6,-2)-(-1,-1)| = sqrt 50.
    assert metrics.mpjpe(moved[None], GT[None])[0] == pytest.approx((np.sqrt(20) + np.sqrt(34) + np.sqrt(50)) / 4)
    # a pure similarity of the truth: P2 = 0, P1 = the scale's stretch of the root-relative pose
    sim = 2.0 * GT @ rot_z(30).T + 5.0
    assert metrics.p_mpjpe(sim[None], GT[None])[0] == pytest.approx(0.0, abs=1e-12)
    assert metrics.mpjpe((2.0 * GT)[None], GT[None], root=None)[0] == pytest.approx(1.0)


def test_crop_to_frame_inverts_the_crop_transform():
    # crop = frame * 2 + (10, 20): crop (30, 60) is frame (10, 20); a second sample with scale 0.5, no offset
    pts = np.array([[[30.0, 60.0]], [[5.0, 5.0]]])
    ct = np.array([[2.0, 10.0, 20.0], [0.5, 0.0, 0.0]])
    assert np.allclose(image_eval.crop_to_frame(pts, ct), [[[10.0, 20.0]], [[10.0, 10.0]]])
    with pytest.raises(ValueError, match=r"crop_transform \(N, 3\)"):
        image_eval.crop_to_frame(pts, ct[:1])


def frames(p1_offsets, actions, stages=0):
    """Per-frame results whose protocol-1 error is exactly ``p1_offsets`` mm (every joint but the root shifted in
    x by it) and whose 2D is off by 3-4-5 px on every joint."""
    n = len(actions)
    gt3d = np.tile(np.arange(17 * 3, dtype=float).reshape(17, 3), (n, 1, 1))
    pred3d = gt3d.copy()
    pred3d[:, 1:, 0] += np.asarray(p1_offsets, float)[:, None] * 17 / 16
    gt2d = np.zeros((n, 17, 2))
    return {"subject": np.array(["S9"] * n), "action": np.array(actions), "camera": np.array(["54138969"] * n),
            "frame": np.arange(n), "gt2d_px": gt2d, "visible": np.ones((n, 17)), "gt3d_mm": gt3d,
            "pred2d_px": gt2d + [3.0, 4.0], "argmax2d_px": gt2d + [6.0, 8.0], "pred3d_mm": pred3d,
            "status": np.zeros(n, int), "stage2d_px": np.repeat((gt2d + [6.0, 8.0])[:, None], stages, 1),
            "stage3d_mm": np.repeat(pred3d[:, None], stages, 1)}


def test_summary_per_action_and_both_averages():
    f = frames([10, 20, 60, 0], ["Walking 1", "Walking", "WalkDog", "Directions"], stages=2)
    f["pred3d_mm"][3] = np.nan  # a frame whose lift failed: kept, scored as no pose (every joint at the true root)
    s = image_eval.summarise(f)
    assert s.frames == 4 and s.not_lifted == 1
    # the fallback: joint j of the truth is 3 j (1, 1, 1) from the root, mean over 17 joints 3 sqrt(3) * 8
    fb = 24 * np.sqrt(3)
    # Walking 15 (2 frames), Walk Dog 60 (1), Directions fb (1): frame-weighted (10 + 20 + 60 + fb) / 4
    assert s.p1.per_action == {"directions": (pytest.approx(fb), 1), "walkingdog": (pytest.approx(60.0), 1),
                               "walking": (pytest.approx(15.0), 2)}
    assert s.p1.action_mean == pytest.approx((15 + 60 + fb) / 3)
    assert s.p1.frame_mean == pytest.approx((90 + fb) / 4)
    assert s.p1.median == pytest.approx((20 + fb) / 2) and s.p1.frames == 4
    assert s.px2d.frame_mean == pytest.approx(5.0) and s.px2d_argmax.frame_mean == pytest.approx(10.0)
    assert [r.stage for r in s.stages] == [1, 2]
    # the stages lifted all four frames (the failure is the final lift's): (10 + 20 + 60 + 0) / 4
    assert s.stages[0].px2d_mean == pytest.approx(10.0) and s.stages[1].p1_mean == pytest.approx(22.5)
    assert s.stages[1].not_lifted == 0


def test_tables_put_the_paper_beside_the_run():
    runs = {"ours": image_eval.summarise(frames([10, 20, 60], ["Walking", "Walking", "WalkDog"], stages=2)),
            "true 2D": image_eval.summarise(frames([5, 5, 5], ["Walking", "Walking", "WalkDog"]))}
    runs["true 2D"] = dataclasses.replace(runs["true 2D"], px2d_argmax=None)
    md, csv_text, js = image_eval.tables(runs)
    lines = md.splitlines()
    header = next(ln for ln in lines if ln.startswith("| Method |"))
    assert header.split(" | ")[13:16] == ["Walk Dog", "Walking", "Walk Together"]
    ours = next(ln for ln in lines if ln.startswith("| ours: MPJPE (P1)")).split(" | ")
    assert ours[13:15] == ["60.00", "15.00"] and ours[-2:] == ["37.50", "30.00 |"]
    mix = next(ln for ln in lines if ln.startswith("| Ours - Mixture PPCA")).split(" | ")
    assert mix[1] == "64.98" and mix[-2:] == ["-", "88.39 |"]  # the paper's Average in the frame-weighted column
    assert "| ours: projection of the final 3D pose (3 frames, 0 failed) | 5.00 |" in md
    assert "| true 2D: " not in md.split("Table 2")[1]
    t2 = md.split("Table 2")[1].splitlines()  # the paper's "ours" row (the last stage's argmax) before the extra row
    assert [ln.split(" | ")[0] for ln in t2 if ln.startswith("| ours")] == [
        "| ours: argmax of the last stage's belief maps (3 frames)",
        "| ours: projection of the final 3D pose (3 frames, 0 failed)"]
    assert "| Ours including 3D refinement (paper, Table 2) | 9.47 |" in md
    assert "| ours | 2 | 10.00 / 10.00 |" in md  # Figure 3's numbers
    assert js["paper"]["table1"] == paper.TABLE1 and csv_text.count("Walk Dog") == 2


def test_paper_reference_data_is_complete():
    keys = {k for k, _ in skeleton.H36M_ACTIONS}
    for row in paper.TABLE1.values():
        assert set(row) == keys | {"average"}
    # the paper's Average is not its action mean (the reason it sits in the frame-weighted column)
    assert np.mean([v for k, v in paper.TABLE1["Ours - Single PPCA Model (paper, Table 1)"].items()
                    if k != "average"]) == pytest.approx(93.256)


def test_failed_frames_are_counted_with_the_stated_fallback():
    """A frame whose lift failed is never dropped: it carries the error of no pose (every joint at the true root for
    MPJPE and the 2D error, at the true centroid for P-MPJPE), and every table says how many there are."""
    f = frames([10, 30], ["Walking", "Walking"], stages=1)
    # frame 1: the truth is the root at 0 and 16 joints 10 mm away along x; its lift and its projection failed
    f["gt3d_mm"][1] = 0.0
    f["gt3d_mm"][1, 1:, 0] = 10.0
    f["pred3d_mm"][1] = np.nan
    f["stage3d_mm"][1] = np.nan
    f["gt2d_px"][1, 1:, 1] = 17.0  # 2D: the 16 joints 17 px below the root
    f["pred2d_px"][1] = np.nan
    s = image_eval.summarise(f)
    assert s.frames == 2 and s.not_lifted == 1 and s.not_projected == 1
    # P1: 16 x 10 / 17; P2: the centroid is 160/17 mm from the root: (160/17 + 16 (10 - 160/17)) / 17
    p1_fb, c = 160 / 17, 160 / 17
    p2_fb = (c + 16 * (10 - c)) / 17
    assert s.p1.per_action["walking"] == (pytest.approx((10 + p1_fb) / 2), 2)
    frame0 = metrics.p_mpjpe(f["pred3d_mm"][:1], f["gt3d_mm"][:1])[0]
    assert s.p2.frames == 2 and s.p2.frame_mean == pytest.approx((frame0 + p2_fb) / 2)
    # 2D: frame 0 is off by 5 px on all 17 joints; frame 1 scores 16 x 17 / 17 = 16 px
    assert s.px2d.frame_mean == pytest.approx((5.0 + 16.0) / 2)
    assert s.stages[0].not_lifted == 1 and s.stages[0].p1_mean == pytest.approx((10 + p1_fb) / 2)
    md, _, js = image_eval.tables({"run": s})
    assert "| run: MPJPE (P1), 2 frames, 1 failed |" in md and "| run: P-MPJPE (P2), 2 frames, 1 failed |" in md
    assert "| run | 2 | 1 |" in md  # the mean / median table
    assert "| run: projection of the final 3D pose (2 frames, 1 failed) |" in md
    assert "| run | 1 |" in md.split("Figure 3")[1] and md.split("Figure 3")[1].rstrip().endswith("| 1 |")
    assert js["fallback"] == image_eval.FALLBACK and js["frames"] == {"run": (2, 1)}


ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_run_summary_json_is_the_written_dict_and_reads_back():
    """``RunSummary.to_json`` is what ``results.json`` holds under ``runs[label]`` (keys in their order, lists for
    the per-action pairs, null for no argmax); ``from_json`` gives back the same record."""
    f = frames([10, 20, 60, 0], ["Walking 1", "Walking", "WalkDog", "Directions"], stages=2)
    f["pred3d_mm"][3] = np.nan
    s = image_eval.summarise(f)
    js = s.to_json()
    assert list(js) == ["frames", "not_lifted", "not_projected", "fallback", "p1", "p2", "px2d", "px2d_argmax",
                        "stages"]
    assert list(js["p1"]) == ["per_action", "action_mean", "frame_mean", "median", "frames"]
    assert js["p1"]["per_action"]["walking"] == [pytest.approx(15.0), 2]
    assert list(js["p1"]["per_action"]) == ["directions", "walkingdog", "walking"]  # Table 1 order
    assert list(js["stages"][1]) == ["stage", "px2d_mean", "px2d_median", "p1_mean", "p1_median", "p2_mean",
                                     "p2_median", "not_lifted"]
    assert js["stages"][1]["stage"] == 2 and js["stages"][1]["p1_mean"] == pytest.approx(22.5)
    back = json.loads(json.dumps(js))
    assert image_eval.RunSummary.from_json(back) == s and image_eval.RunSummary.from_json(back).to_json() == js
    gt = dataclasses.replace(s, px2d_argmax=None, stages=())
    assert gt.to_json()["px2d_argmax"] is None and gt.to_json()["stages"] == []
    assert image_eval.RunSummary.from_json(json.loads(json.dumps(gt.to_json()))) == gt


def test_committed_image_results_round_trip():
    """The committed results written from run summaries read back into records that write the same JSON: a drift of
    the format (a renamed, added or dropped field) fails here."""
    path = os.path.join(ROOT, "results", "paper_eval_fixture_gt.json")
    with open(path) as fh:
        data = json.load(fh)
    assert data["runs"]
    for label, run in data["runs"].items():
        s = image_eval.RunSummary.from_json(run, f"{path}: runs[{label!r}]")
        assert s.to_json() == run
        assert data["frames"][label] == [s.frames, s.not_lifted]


@pytest.mark.parametrize("damage, message", [
    (lambda js: js.pop("not_lifted"), r"run: field 'not_lifted' missing"),
    (lambda js: js.update(extra=1), r"run: unexpected field 'extra'"),
    (lambda js: js.update(frames=4.0), r"run\.frames: expected a count .*float 4\.0"),
    (lambda js: js.update(not_projected=True), r"run\.not_projected: expected a count .*bool True"),
    (lambda js: js.update(fallback=3), r"run\.fallback: expected a string, got int 3"),
    (lambda js: js["p1"].pop("median"), r"run\.p1: field 'median' missing"),
    (lambda js: js["p2"].update(frame_mean="12"), r"run\.p2\.frame_mean: expected a finite number or null"),
    (lambda js: js["px2d"]["per_action"].update(walking=[5.0]), r"run\.px2d\.per_action\['walking'\]: expected "
                                                                 r"\[mean, frames\]"),
    (lambda js: js["stages"][1].update(p2_median=None), r"run\.stages\[1\]\.p2_median: expected a finite number"),
    (lambda js: js.update(stages={}), r"run\.stages: expected a JSON array"),
    (lambda js: js.update(px2d_argmax=[]), r"run\.px2d_argmax: expected a JSON object"),
])
def test_run_summary_from_json_names_the_bad_field(damage, message):
    js = image_eval.summarise(frames([10, 20], ["Walking", "WalkDog"], stages=2)).to_json()
    damage(js)
    with pytest.raises(ValueError, match=message):
        image_eval.RunSummary.from_json(js, "run")
