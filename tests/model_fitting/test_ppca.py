import numpy as np
import pytest

from model_fitting.ppca import log_density, ppca_fit


def test_ppca_closed_form_matches_sample_covariance(rng):
    X = rng.normal(size=(5000, 6)) @ np.diag([3, 2, 1, 0.1, 0.1, 0.1])
    mu, U, lam, s2 = ppca_fit(X, 3)
    np.testing.assert_allclose(lam, [9, 4, 1], rtol=0.1)
    assert s2 == pytest.approx(0.01, rel=0.15)
    # density integrates the covariance correctly: mean log density = -0.5 (log det + D log 2pi + D)
    ld = log_density(X, mu, U, lam, s2).mean()
    assert ld == pytest.approx(-0.5 * (np.log(lam).sum() + 3 * np.log(s2) + 6 * np.log(2 * np.pi) + 6), rel=1e-2)
