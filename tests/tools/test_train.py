"""The training loop on the small network variant: the loss falls, a resumed run continues."""
import os

import numpy as np
from prototxt import generate
from tools.train import train

SMALL_TRAIN = os.path.join(generate.HERE, "lifting_h36m_small_train.prototxt")


def test_train_loss_falls_and_resume_continues(tmp_path, s1_poses):
    h = train(SMALL_TRAIN, str(tmp_path / "run"), s1_poses, 40, base_lr=1e-3, snapshot_every=20, log=None)
    loss = np.array(h["loss"])
    assert np.all(np.isfinite(loss)) and loss[-10:].mean() < loss[:10].mean()
    assert (tmp_path / "run" / "loss.png").exists()
    h2 = train(SMALL_TRAIN, str(tmp_path / "run"), s1_poses, 5, base_lr=1e-3, snapshot_every=0,
               resume=str(tmp_path / "run" / "snap_iter_40.solverstate"), log=None)
    assert h2["iteration"] == list(range(45))
