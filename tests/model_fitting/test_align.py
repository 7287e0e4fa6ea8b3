import numpy as np
import pytest

from model_fitting import align
from model_fitting.ppca import ppca_fit
from tests.helpers import wrap


def test_rotate_back_inverts_eq2(posed):
    _, canon, theta, world = posed
    Q = align.rotate_back(align.to_vectors(world), theta)
    np.testing.assert_allclose(Q, align.to_vectors(canon), atol=1e-12)


def test_closed_form_rotations_recover_known_angles(posed):
    model, canon, theta, world = posed
    P = align.to_vectors(world)
    mu, U, lam, s2 = ppca_fit(align.to_vectors(canon), 3)
    start = np.mod(theta + np.random.default_rng(0).uniform(-2, 2, len(theta)), 2 * np.pi)
    est, _ = align.update_rotations_closed_form(P, start, mu, U, lam, s2)
    np.testing.assert_allclose(wrap(est - theta), 0, atol=1e-6)


def test_ceres_and_closed_form_reach_the_same_rotations(posed):
    model, canon, theta, world = posed
    P = align.to_vectors(world)[:60]
    mu, U, lam, s2 = ppca_fit(align.to_vectors(canon), 3)
    start = np.mod(theta[:60] + np.random.default_rng(1).uniform(-0.4, 0.4, 60), 2 * np.pi)
    cf, f_cf = align.update_rotations_closed_form(P, start, mu, U, lam, s2)
    ce, f_ce = align.update_rotations_ceres(P, start, mu, U, lam, s2)
    np.testing.assert_allclose(f_ce, f_cf, rtol=1e-6, atol=1e-2)  # s2 is at its floor here: terms ~1e12-scale sums
    np.testing.assert_allclose(wrap(ce - cf), 0, atol=1e-6)
    np.testing.assert_allclose(wrap(ce - theta[:60]), 0, atol=1e-6)


def test_fast_objective_accounting_equals_the_explicit_objective(posed):
    _, canon, theta, world = posed
    P = align.to_vectors(world)
    start = np.mod(theta + 0.3, 2 * np.pi)
    (mu, U, lam, s2), cov = align.ppca_step(P, start, 2, return_cov=True)
    e_explicit = align.objective(P, start, mu, U, lam, s2)
    assert align.objective_after_ppca(len(P), cov, U, lam, s2) == pytest.approx(e_explicit, rel=1e-10)
    new, terms = align.update_rotations_closed_form(P, start, mu, U, lam, s2)
    assert align.objective_from_terms(terms, U, lam, s2) == pytest.approx(align.objective(P, new, mu, U, lam, s2),
                                                                          rel=1e-10)
