import numpy as np
import pytest

from helpers import make_model, rotate, sample_poses
from lifting import skeleton
from model_fitting import align, mixture
from model_fitting.fit import FitConfig, fit, preprocess
from model_fitting.ppca import log_density, ppca_fit


def wrap(d):
    return np.angle(np.exp(1j * d))


@pytest.fixture(scope="module")
def posed():
    """Poses from a known 1-component model, each rotated by a known ground-plane angle."""
    model = make_model(K=1, J=3, seed=7, noise=1e-6)
    canon, a, theta, _ = sample_poses(model, 400, seed=8)
    return model, canon, theta, rotate(canon, theta)


def test_ppca_closed_form_matches_sample_covariance(rng):
    X = rng.normal(size=(5000, 6)) @ np.diag([3, 2, 1, 0.1, 0.1, 0.1])
    mu, U, lam, s2 = ppca_fit(X, 3)
    np.testing.assert_allclose(lam, [9, 4, 1], rtol=0.1)
    assert s2 == pytest.approx(0.01, rel=0.15)
    # density integrates the covariance correctly: mean log density = -0.5 (log det + D log 2pi + D)
    ld = log_density(X, mu, U, lam, s2).mean()
    assert ld == pytest.approx(-0.5 * (np.log(lam).sum() + 3 * np.log(s2) + 6 * np.log(2 * np.pi) + 6), rel=1e-2)


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


def test_alignment_undoes_unknown_rotations_and_objective_never_increases(posed):
    model, canon, theta, world = posed
    mm = world * 1000.0
    m, report, extras = fit(mm, FitConfig(num_basis=3, max_components=1, mirror=False, em_iterations=3), progress=False)
    obj = np.array(report["alignment_objective"])
    assert report["alignment_monotone"]
    assert np.all(np.diff(obj) <= 1e-9 * np.abs(obj[1:]))
    # aligned poses differ from the canonical ones by one global ground-plane rotation (the gauge)
    Q = align.to_poses(extras["aligned"])
    c0 = canon - canon[:, :1]
    c0 = c0 / skeleton.limb_scale(c0)[:, None, None]
    q, c = align.to_vectors(Q), align.to_vectors(c0)
    qx, qz, cx, cz = q[:, 0::3], q[:, 2::3], c[:, 0::3], c[:, 2::3]
    phi = np.arctan2(np.sum(qx * cz - qz * cx, 1), np.sum(qx * cx + qz * cz, 1))  # per-pose angle c -> q
    assert np.std(wrap(phi - np.median(phi))) < 0.1  # deformations can trade with small rotations
    # and the alignment found rotations at least as good (for eq. 1) as the generating ones
    P = align.to_vectors(preprocess(mm, mirror=False)[0])
    e_true = align.objective(P, theta, *align.ppca_step(P, theta, 3))
    assert obj[-1] <= e_true + 1e-9 * abs(e_true)


def test_greedy_seeds_pick_one_per_mode_and_skip_too_close(rng):
    a = rng.normal(size=(100, 4)) * 0.1
    b = rng.normal(size=(100, 4)) * 0.1 + 5
    c = rng.normal(size=(5, 4)) * 0.1 + np.array([0, 0.5, 0, 0])  # near mode a
    X = np.concatenate([a, b, c])
    seeds, sep = mixture.greedy_seeds(X, max_components=4, min_separation=1.0)
    assert len(seeds) == 2
    assert {int(s >= 100 and s < 200) for s in seeds} == {0, 1}


def test_em_log_likelihood_is_monotone(rng):
    X = np.concatenate([rng.normal(size=(300, 5)), rng.normal(size=(300, 5)) + 4])
    resp = np.zeros((600, 2))
    label = (X[:, 0] > 2).astype(int)
    label[rng.random(600) < 0.3] ^= 1  # a bad start: 30% of the points in the wrong cluster
    resp[np.arange(600), label] = 1
    comps, log_pi = mixture.m_step(X, resp, 2)
    lls = []
    for _ in range(15):
        comps, log_pi, ll, _ = mixture.em_step(X, comps, log_pi, 2)
        lls.append(ll)
    assert np.all(np.diff(lls) >= -1e-8 * np.abs(lls[1:]))
    assert lls[-1] > lls[0] + 100


def test_preprocess_normalises_and_mirrors(rng):
    p = rng.normal(size=(3, 17, 3)) * 300 + 50
    n, mm = preprocess(p)
    assert n.shape == (6, 17, 3)
    np.testing.assert_allclose(n[:, 0], 0, atol=1e-12)
    np.testing.assert_allclose(skeleton.limb_scale(n), 1)
    np.testing.assert_allclose(n[3:], skeleton.flip_lr(n[:3]))
    with pytest.raises(ValueError, match="NaN"):
        p[1, 2, 0] = np.nan
        preprocess(p)
    with pytest.raises(ValueError, match=r"\(N, 17, 3\)"):
        preprocess(np.zeros((4, 16, 3)))
    with pytest.raises(ValueError, match="no poses"):
        preprocess(np.zeros((0, 17, 3)))


def test_interrupted_fit_resumes_to_the_same_model(tmp_path):
    model = make_model(K=2, J=3, seed=4, noise=1e-4)
    canon, _, theta, _ = sample_poses(model, 300, seed=9)
    mm = rotate(canon, theta) * 1000
    cfg = FitConfig(num_basis=3, max_components=2, em_iterations=6, em_tol=0)
    ref, ref_report, _ = fit(mm, cfg, progress=False)
    ck = tmp_path / "fit.ckpt.npz"
    with pytest.raises(KeyboardInterrupt):
        fit(mm, cfg, checkpoint=str(ck), progress=False, stop_after=4)  # inside the alignment
    with pytest.raises(KeyboardInterrupt):
        fit(mm, cfg, checkpoint=str(ck), progress=False, stop_after=5)  # inside EM
    resumed, report, _ = fit(mm, cfg, checkpoint=str(ck), progress=False)
    for name in ("mean", "basis", "variances", "noise_variance", "weights"):
        np.testing.assert_array_equal(getattr(resumed, name), getattr(ref, name))
    assert report["alignment_objective"] == ref_report["alignment_objective"]
    # a checkpoint of other data is refused, not silently reused
    with pytest.raises(ValueError, match="other data or another config"):
        fit(mm[:-1], cfg, checkpoint=str(ck), progress=False)


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
