import numpy as np
import pytest

from lifting import series
from lifting.geometry import project, rotate_ground
from lifting.lift import STATUS_OK, Lifter
from lifting.synthetic import make_model, sample_poses


def _tilted_camera(deg=20.0):
    """World -> camera rotation of a camera pitched down by ``deg`` (not the upright default)."""
    a = np.radians(deg)
    return np.array([[1.0, 0, 0], [0, np.cos(a), -np.sin(a)], [0, np.sin(a), np.cos(a)]])


@pytest.fixture(scope="module")
def case():
    """The shipped model's size (K=3, J=24), a tilted camera, noisy 2D with two joints missing in every frame."""
    model = make_model(K=3, J=24, seed=4)
    canon, _, theta, _ = sample_poses(model, 400, seed=11)
    camera = _tilted_camera()
    rng = np.random.default_rng(3)
    y = project(rotate_ground(canon, theta), camera, scale=200.0, offset=(300, 300))
    y = y + rng.normal(scale=4.0, size=y.shape)
    y[:, [4, 13]] = np.nan
    return model, camera, y


def _exact(lifter, w, theta):
    """F(theta) ``(K, P, 2L)`` and G(theta) ``(K, 2L, 2L)`` by solving the normal equations at ``theta``."""
    tp = lifter.trig_parts
    K, P, L = tp.shape[1], tp.shape[2], tp.shape[3]
    D = (np.cos(theta) * tp[0] + np.sin(theta) * tp[1] + tp[2])  # (K, P, L, 2)
    D = (D - np.einsum("l,kplc->kpc", w, D)[:, :, None] / w.sum()).reshape(K, P, 2 * L)
    U = D * np.repeat(w, 2) / lifter.nu[:, None, None]
    N = U @ np.swapaxes(D, 1, 2) + np.eye(P) * lifter.prior[:, None, :]
    F = np.linalg.solve(N, U)
    return F, np.swapaxes(U, 1, 2) @ F


def test_series_equals_the_normal_equations_across_half_a_grid_step(case):
    model, camera, _ = case
    lifter = Lifter(model, camera=camera)
    w = np.random.default_rng(0).uniform(0.5, 1.0, 17)
    w[[4, 13]] = 0
    h = np.pi / lifter.num_angles
    sp = series.build(lifter.trig_parts, w, lifter.angles, lifter.nu, lifter.prior, h, tol=1e-12)
    assert 6 <= sp.order <= 20
    index = series.packed_index(34)
    y = np.random.default_rng(1).normal(size=(1, 34))
    q = series.packed_outer(y, index)
    P = lifter.P
    for a in (0, 17, 61):
        for d in (-h, -0.3 * h, 0.0, 0.8 * h, h):
            F, G = _exact(lifter, w, lifter.angles[a] + d)
            for k in range(model.num_components):
                powers = d ** np.arange(sp.order + 1)
                x = (y @ sp.F[k, a]).reshape(P, sp.order + 1) @ powers
                np.testing.assert_allclose(x, F[k] @ y[0], rtol=1e-9, atol=1e-10 * np.abs(F[k] @ y[0]).max())
                assert (q @ sp.G[k, a])[0] @ powers == pytest.approx(y[0] @ G[k] @ y[0], rel=1e-10)
                assert (y @ sp.S[k, a])[0] @ powers == pytest.approx((F[k] @ y[0])[0], rel=1e-9)
    # the grid matrix is the zeroth term in float32
    np.testing.assert_allclose(sp.grid.T.reshape(3, -1, len(index[0])), sp.G[..., 0], rtol=1e-6)


def test_packed_outer_gives_the_quadratic_form():
    rng = np.random.default_rng(2)
    M = rng.normal(size=(5, 5))
    M = M + M.T
    i, j, twice = index = series.packed_index(5)
    for m in (3, 100):  # a few rows (gathers) and many (a row of the triangle a step)
        y = rng.normal(size=(m, 5))
        assert series.packed_outer(y, index) @ (M[i, j] * twice) == pytest.approx(np.einsum("ni,ij,nj->n", y, M, y))
    np.testing.assert_array_equal(series.packed_outer(np.array([[1.0, 2.0, 3.0]]), series.packed_index(3)),
                                  [[1, 2, 3, 4, 6, 9]])
    np.testing.assert_array_equal(series.packed_outer(np.tile([[1.0, 2.0, 3.0]], (60, 1)), series.packed_index(3)),
                                  np.tile([[1, 2, 3, 4, 6, 9]], (60, 1)))


def test_minimise_hand_worked_polynomials():
    # f = 1.0002 - 0.04 d + 2 d^2 = 1 + 2 (d - 0.01)^2: minimum 1 at 0.01
    coef = np.array([[0.0, 0.04, -2.0], [0.0, -0.04, -2.0]])
    d, f, edge = series.minimise(coef, np.array([1.0002, 1.0002]), 0.05)
    np.testing.assert_allclose(d, [0.01, -0.01], atol=1e-12)
    np.testing.assert_allclose(f, [1.0, 1.0], atol=1e-14)
    assert edge.tolist() == [0, 0]
    # f = 3 + d - d^3 on [-0.2, 0.2]: decreasing to the left end, which is flagged as an edge
    d, f, edge = series.minimise(np.array([[0.0, -1.0, 0.0, 1.0]]), np.array([3.0]), 0.2)
    assert d[0] == pytest.approx(-0.2) and f[0] == pytest.approx(3 - 0.2 + 0.008) and edge.tolist() == [-1]
    # quartic with a prior weight (1 - cos(theta_a + d - previous)): the minimum of the sum, against a dense search
    coef = np.array([[0.0, -0.3, -5.0, 2.0, -40.0]])
    prior = (np.array([1.0]), np.array([1.15]), 0.7)
    d, f, _ = series.minimise(coef, np.array([2.0]), 0.1, prior)
    dd = np.linspace(-0.1, 0.1, 200001)
    ff = 2.0 - (coef[0] * dd[:, None] ** np.arange(5)).sum(1) + 0.7 * (1 - np.cos(1.0 + dd - 1.15))
    assert f[0] <= ff.min() + 1e-14 and d[0] == pytest.approx(dd[np.argmin(ff)], abs=1e-5)
    # no previous angle (NaN): no prior
    d2, f2, _ = series.minimise(coef, np.array([2.0]), 0.1, (np.array([1.0]), np.array([np.nan]), 0.7))
    d3, f3, _ = series.minimise(coef, np.array([2.0]), 0.1)
    assert d2[0] == d3[0] and f2[0] == f3[0]


@pytest.mark.parametrize("bounds", [(0.6, 2.0), (0.97, 1.03)])
def test_series_search_equals_the_factorising_search(case, bounds):
    # every frame shares one visibility row: the series search (from one frame on) and the per-frame normal
    # equations with Newton (series never used) find the same minimum; tight scale bounds send frames whose best
    # components end outside them to the factorising search, and the rest must agree too
    model, camera, y = case
    series_lifter = Lifter(model, camera=camera, series_min_frames=1, scale_bounds=bounds)
    newton = Lifter(model, camera=camera, series_min_frames=10**9, scale_bounds=bounds)
    a, b = series_lifter.lift(y), newton.lift(y)
    assert np.all(a.status == STATUS_OK) and np.all(b.status == STATUS_OK)
    assert any(key.startswith(b"series") for key in series_lifter._cache)
    np.testing.assert_array_equal(a.component, b.component)
    np.testing.assert_allclose(a.cost, b.cost, rtol=1e-9)
    np.testing.assert_allclose(a.pose3d, b.pose3d, atol=1e-6 * np.abs(b.pose3d).max())
    np.testing.assert_allclose(a.scale, b.scale, rtol=1e-6)


def test_series_search_with_an_angle_prior_equals_the_factorising_search(case):
    model, camera, y = case
    previous = np.random.default_rng(4).uniform(0, 2 * np.pi, len(y))
    previous[::5] = np.nan
    prior = (previous, 3.0)
    a = Lifter(model, camera=camera, series_min_frames=1).lift(y, angle_prior=prior)
    b = Lifter(model, camera=camera, series_min_frames=10**9).lift(y, angle_prior=prior)
    np.testing.assert_array_equal(a.component, b.component)
    np.testing.assert_allclose(a.cost, b.cost, rtol=1e-9)
    np.testing.assert_allclose(a.angle, b.angle, atol=1e-6)


def test_series_search_finds_the_exhaustive_optimum(case):
    # all weights 1, exact 2D: never worse than 10,000 angles, the same component and pose
    model, camera, _ = case
    canon, _, theta, _ = sample_poses(model, 60, seed=12)
    y = project(rotate_ground(canon, theta), camera, scale=200.0)
    ref = Lifter(model, camera=camera, num_angles=10000, search="grid").lift(y)
    new = Lifter(model, camera=camera, series_min_frames=1).lift(y)
    assert np.all(new.cost <= ref.cost * (1 + 1e-9))
    np.testing.assert_array_equal(new.component, ref.component)
    np.testing.assert_allclose(new.pose3d, ref.pose3d, atol=2e-3 * np.abs(ref.pose3d).max())


def test_series_is_not_built_where_it_would_not_fit_the_cache(case):
    # hundreds of angles: the series of one row would take hundreds of MB; the per-frame Newton search is used
    model, camera, y = case
    lifter = Lifter(model, camera=camera, num_angles=720, series_min_frames=1)
    r = lifter.lift(y[:20])
    assert np.all(r.status == STATUS_OK)
    assert not any(key.startswith(b"series") for key in lifter._cache)
    assert Lifter(model, camera=camera)._series_fits


def test_series_tail_bound_hand_worked():
    ones = np.ones((1, 1, 2, 2))
    # terms 1, 0.1, 0.01 at step 1: ratio 0.1, tail 0.01 / 0.9
    assert series._remainder([ones, 0.1 * ones, 0.01 * ones], 1.0) == pytest.approx(0.01 / 0.9)
    # at step 0.5 the terms are 1, 0.05, 0.0025: ratio 0.05
    assert series._remainder([ones, 0.1 * ones, 0.01 * ones], 0.5) == pytest.approx(0.0025 / 0.95)
    assert series._remainder([ones, ones, 2 * ones], 1.0) == np.inf  # not decaying


@pytest.mark.parametrize("kw", [dict(num_angles=20), dict(noise_2d=0.01)])
def test_a_series_that_does_not_converge_leaves_the_frames_to_the_newton_search(case, kw):
    # few angles (a wide bracket) or very little 2D noise: the shipped model's profile varies too fast for 20 orders
    from lifting.model import load_model

    _, camera, y = case
    model = load_model()
    lifter = Lifter(model, camera=camera, series_min_frames=1, **kw)
    with pytest.raises(series.SeriesDiverges):
        series.build(lifter.trig_parts, np.ones(17), lifter.angles, lifter.nu, lifter.prior, np.pi / lifter.num_angles,
                     tol=1e-12)
    y = np.where(np.isnan(y), 0.0, y)[:50]  # every joint visible: one row for all frames
    a = lifter.lift(y)
    b = Lifter(model, camera=camera, series_min_frames=10**9, **kw).lift(y)
    assert lifter._series(np.ones(17)) is None  # remembered: not built again
    np.testing.assert_allclose(a.cost, b.cost, rtol=1e-12)
    np.testing.assert_array_equal(a.component, b.component)
