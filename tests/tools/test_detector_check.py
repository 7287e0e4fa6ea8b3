"""The fixture comparison behind README's detector table (scripts/compare_detector.py)."""
import json

import matplotlib.pyplot as plt

import mediapipe  # noqa: F401,E402  (set-up installs it: a broken MediaPipe must fail, never skip)

from lifting.model import load_model
from tests.helpers import shared_path
from tools.detector_check import METHODS, compare, summarise, write_report


def test_fixture_comparison(tmp_path):
    rows = compare(shared_path("data", "h36m_fixture"), load_model())
    s = summarise(rows)
    frames = [r["row"] for r in rows]
    assert [f["subject"] for f in frames] == ["S1", "S5", "S7", "S8"] and all(f["person_found"] for f in frames)
    for f in frames:  # measured 7-13 px on persons 165-336 px tall
        assert f["err2d_limb_px"] < 0.06 * f["person_height_px"] + 5
    # S1, S7, S8 stand: every source gives a 3D pose; P-MPJPE with true 2D is the lifter's own error (39-69 mm)
    for f in frames[:1] + frames[2:]:
        assert all(f[k]["status"] == "ok" for k in METHODS)
        assert f["c"]["p_mpjpe_mm"] < 90 and f["a"]["p_mpjpe_mm"] < 110 and f["b"]["p_mpjpe_mm"] < 130
    assert s["c"]["frames"] == 4 and s["b"]["frames"] == 4
    assert s["c"]["p_mpjpe_median"] <= s["a"]["p_mpjpe_median"]  # ground-truth 2D beats detected 2D
    write_report(str(tmp_path / "r"), rows, s)
    md = (tmp_path / "r.md").read_text()
    assert "sanity check" in md and md.count("\n| S") == 4 and "(c) ground-truth 2D" in md
    assert json.loads((tmp_path / "r.json").read_text())["summary"]["c"]["frames"] == 4
    assert plt.imread(tmp_path / "r.png").shape[0] > 1000
