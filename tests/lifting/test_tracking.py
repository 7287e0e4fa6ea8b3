import numpy as np

from lifting.tracking import Tracker, box_iou


def test_iou_hand_worked():
    assert box_iou((0, 0, 2, 2), (1, 1, 2, 2)) == 1 / 7
    assert box_iou((0, 0, 1, 1), (5, 5, 1, 1)) == 0.0


def _joints(x, y):
    return np.column_stack([np.linspace(x, x + 50, 17), np.linspace(y, y + 150, 17)])


def test_ids_follow_people_whatever_the_detection_order():
    t = Tracker()
    a, b = (100, 100, 60, 160), (400, 100, 60, 160)
    assert t.update(0, [a, b], [_joints(100, 100), _joints(400, 100)]) == [0, 1]
    a2, b2 = (110, 102, 60, 160), (390, 100, 60, 160)
    assert t.update(1, [b2, a2], [_joints(390, 100), _joints(110, 102)]) == [1, 0]
    # a newcomer gets a new id; a person far from every track too
    assert t.update(2, [a2, (800, 300, 50, 100)], [_joints(110, 102), _joints(800, 300)]) == [0, 2]
    # a track unseen for longer than max_age ends: its id is not reused
    t2 = Tracker(max_age=1)
    t2.update(0, [a], [_joints(100, 100)])
    assert t2.update(5, [a], [_joints(100, 100)]) == [1]
