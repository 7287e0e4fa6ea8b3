import numpy as np

from lifting import skeleton
from lifting.model import PoseModel
from lifting.synthetic import make_model, sample_poses


def test_random_models_are_valid_and_reproducible():
    m = make_model(K=2, J=5, seed=4)
    assert (m.num_components, m.num_basis) == (2, 5)
    np.testing.assert_allclose(skeleton.limb_scale(m.mean), 1.0)
    np.testing.assert_array_equal(make_model(K=2, J=5, seed=4).basis, m.basis)


def test_samples_follow_the_mixing_weights_and_the_prior():
    m = make_model(K=2, J=3, seed=1)
    m = PoseModel(m.mean, m.basis, m.variances, m.noise_variance, [0.8, 0.2], m.mm_per_unit)
    canon, a, theta, comp = sample_poses(m, 20000, seed=2)
    assert abs(np.mean(comp == 0) - 0.8) < 0.02
    np.testing.assert_allclose(a[comp == 1].var(0), m.variances[1], rtol=0.1)
    i = np.flatnonzero(comp == 1)[0]
    np.testing.assert_allclose(canon[i], m.mean[1] + np.tensordot(a[i], m.basis[1], 1))
    assert theta.min() >= 0 and theta.max() < 2 * np.pi
    assert np.all(sample_poses(m, 50, seed=3, k=1)[3] == 1)
