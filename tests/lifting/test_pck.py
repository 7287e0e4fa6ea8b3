import numpy as np

from lifting.pck import match_people, torso_size


def _person(x0):
    """12 joints on a 2-column grid: left shoulder (x0, 0), right shoulder (x0 + 30, 0), ..., hips at y = 80."""
    y = np.repeat([0.0, 40.0, 70.0, 80.0, 120.0, 160.0], 2)
    x = np.tile([x0, x0 + 30.0], 6)
    return np.column_stack([x, y])


def test_torso_is_left_shoulder_to_right_hip_else_the_other_pair():
    g = _person(0)
    lab = np.ones(12, bool)
    assert torso_size(g, lab) == np.hypot(30, 80)
    lab[0] = False
    assert torso_size(g, lab) == np.hypot(30, 80)  # right shoulder - left hip: the same length here
    lab[1] = False
    assert np.isnan(torso_size(g, lab))


def test_pck_matching_missed_people_and_a_mixed_skeleton():
    a, b = _person(0), _person(200)
    lab = [np.ones(12, bool), np.ones(12, bool)]
    thr = 0.2 * np.hypot(30, 80)  # 17.09 px
    good = a + [thr * 0.9, 0]  # every joint within
    mixed = a.copy()
    mixed[[8, 10]] = b[[8, 10]]  # its left knee and ankle are person b's
    r = match_people([good], [a, b], lab)
    assert (r["correct"], r["labelled"], r["missed"]) == (12, 24, 1) and r["pck"] == 0.5
    r = match_people([mixed, b], [a, b], lab)
    assert r["pairs"] == [(1, 1, 12), (0, 0, 10)]
    assert r["foreign"] == [0, 2]
    far = a + [thr * 1.1, 0]
    assert match_people([far], [a, b], lab)["correct"] == 0
    nan = a.copy()
    nan[:6] = np.nan  # not predicted: wrong
    assert match_people([nan], [a], [lab[0]])["correct"] == 6
