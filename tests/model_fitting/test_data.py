import numpy as np
import pytest

from model_fitting.data import gather, load_h36m_npz
from tests.helpers import shared_path


def test_gather_concatenates_every_input_steps_and_rotates(tmp_path, rng):
    npz = shared_path("data", "h36m_poses_17j_5fps.npz")
    arr = rng.normal(size=(6, 17, 3)) * 100
    np.save(tmp_path / "p.npy", arr)
    h36m = load_h36m_npz(npz, ["S1"], step=50)[0]
    poses = gather(h36m_npz=npz, subjects=["S1"], poses=[str(tmp_path / "p.npy")], step=50)
    np.testing.assert_array_equal(poses, np.concatenate([h36m, arr[::50]]))
    rotated = gather(poses=[str(tmp_path / "p.npy")], rotations=3, seed=1)
    assert rotated.shape == (18, 17, 3)
    np.testing.assert_allclose(rotated[..., 1], np.repeat(arr[..., 1], 3, axis=0))  # ground-plane copies
    assert not np.allclose(rotated[0], rotated[1])
    with pytest.raises(ValueError, match="no input"):
        gather()
    with pytest.raises(ValueError, match="--h36m-cdf needs --subjects"):
        gather(h36m_cdf=str(tmp_path))
