import os

import numpy as np
import pytest

from lifting.geometry import project, rotate_ground
from lifting.lift import STATUS_DEGENERATE, STATUS_NONFINITE, STATUS_OK, STATUS_TOO_FEW_JOINTS, Lifter
from lifting.synthetic import make_model, sample_poses
from tests.helpers import wrap


@pytest.fixture(scope="module")
def model():
    return make_model(K=1, J=4, seed=3)


@pytest.fixture(scope="module")
def data(model):
    canon, a, theta, _ = sample_poses(model, 100, seed=5)
    world = rotate_ground(canon, theta)
    y = project(world, scale=250.0, offset=(320, 240))
    return canon, a, theta, world, y


def test_noise_free_round_trip_grid_then_exact_after_refinement(model, data):
    canon, a, theta, world, y = data
    step = 2 * np.pi / 80
    grid = Lifter(model, num_angles=80, noise_2d=1e-4, search="grid").lift(y)
    assert np.all(grid.status == STATUS_OK)
    assert np.abs(wrap(grid.angle - theta)).max() <= step  # within the grid step
    ref = Lifter(model, num_angles=80, refine=True, noise_2d=1e-4).lift(y)
    np.testing.assert_allclose(wrap(ref.angle - theta), 0, atol=1e-5)
    np.testing.assert_allclose(ref.coefficients, a, atol=1e-5)
    np.testing.assert_allclose(ref.scale, 250.0, rtol=1e-5)
    np.testing.assert_allclose(ref.pose3d, world - world[:, :1], atol=1e-5)
    np.testing.assert_allclose(ref.reprojected, y, atol=1e-3)
    assert np.all(ref.cost <= grid.cost + 1e-12)  # refinement never increases the cost


def test_translation_and_scale_of_input_do_not_change_result(model, data):
    y = data[4]
    lifter = Lifter(model)
    r1 = lifter.lift(y)
    r2 = lifter.lift(y * 0.137 + np.array([-55.0, 1e4]))
    np.testing.assert_allclose(r2.pose3d, r1.pose3d, atol=1e-9)
    np.testing.assert_allclose(r2.scale, r1.scale * 0.137, rtol=1e-9)
    np.testing.assert_allclose(r2.reprojected, r1.reprojected * 0.137 + np.array([-55.0, 1e4]), atol=1e-6)


def test_missing_joints_are_reconstructed(model, data):
    canon, a, theta, world, y = data
    ym = y.copy()
    ym[:50, 13] = np.nan  # LWrist missing in half the frames
    ym[50:, [3, 16]] = np.nan  # RFoot and RWrist in the other half
    r = Lifter(model, refine=True, noise_2d=1e-4).lift(ym)
    assert np.all(r.status == STATUS_OK)
    np.testing.assert_allclose(r.pose3d, world - world[:, :1], atol=1e-4)
    # the missing joint's reprojection is where the true joint projects
    np.testing.assert_allclose(r.reprojected[:50, 13], y[:50, 13], atol=1e-2)


def test_zero_weight_equals_missing(model, data):
    y = data[4]
    w = np.ones(y.shape[:2])
    w[:, 5] = 0
    ym = y.copy()
    ym[:, 5] = np.nan
    lifter = Lifter(model)
    np.testing.assert_allclose(lifter.lift(y, w).pose3d, lifter.lift(ym).pose3d, atol=1e-10)


def test_mixture_picks_the_generating_component():
    model = make_model(K=3, J=3, seed=11, noise=1e-5)
    canon, a, theta, comp = sample_poses(model, 90, seed=2)
    y = project(rotate_ground(canon, theta), scale=100.0)
    r = Lifter(model, refine=True).lift(y)
    assert np.mean(r.component == comp) > 0.95


def test_exhaustive_and_grid_refined_agree(model, data):
    y = data[4][:20]
    ex = Lifter(model, num_angles=10000, search="grid").lift(y)
    ex_ref = Lifter(model, num_angles=10000, refine=True).lift(y)
    ref = Lifter(model, num_angles=80, refine=True).lift(y)
    assert np.all(ref.cost <= ex.cost * (1 + 1e-9))  # never worse than the 10,000-angle grid
    np.testing.assert_allclose(ref.cost, ex_ref.cost, rtol=1e-6)
    np.testing.assert_allclose(ref.pose3d, ex_ref.pose3d, atol=1e-5)


def test_bad_frames_get_a_status_and_do_not_kill_the_batch(model, data):
    y = data[4][:5].copy()
    y[1, 4, 0] = np.inf
    w = np.ones((5, 17))
    y[2, :12] = np.nan  # only 5 joints left
    w[2, :12] = 0
    y[3] = 7.0  # all points identical
    r = Lifter(model, min_visible=6).lift(y, w)
    assert r.status.tolist() == [STATUS_OK, STATUS_NONFINITE, STATUS_TOO_FEW_JOINTS, STATUS_DEGENERATE, STATUS_OK]
    assert np.isnan(r.pose3d[1:4]).all() and np.isfinite(r.pose3d[[0, 4]]).all()
    with pytest.raises(ValueError, match="frame 1: non-finite"):
        Lifter(model, min_visible=6).lift(y, w, strict=True)


@pytest.mark.parametrize("shape", [(5, 16, 2), (5, 17, 3), (17,)])
def test_wrong_shapes_are_refused(model, shape):
    with pytest.raises(ValueError, match="points2d must have shape"):
        Lifter(model).lift(np.zeros(shape))


def test_bad_weights_and_camera_are_refused(model, data):
    y = data[4][:3]
    with pytest.raises(ValueError, match="weights must have shape"):
        Lifter(model).lift(y, np.ones((3, 16)))
    with pytest.raises(ValueError, match=">= 0"):
        Lifter(model).lift(y, -np.ones((3, 17)))
    with pytest.raises(ValueError, match="rotation"):
        Lifter(model, camera=np.diag([1.0, 1.0, -1.0]))


def test_a_single_frame_is_lifted_as_its_row_of_a_batch(model, data):
    y = data[4][:7].copy()
    y[3, [2, 9]] = np.nan  # its own visibility pattern
    lifter = Lifter(model)
    batch = lifter.lift(y)
    for i in (0, 3):
        one = lifter.lift(y[i])  # (17, 2) in, a batch of one out
        assert one.pose3d.shape == (1, 17, 3) and one.status.tolist() == [STATUS_OK]
        # the default search's Newton iteration stops within 1e-7 rad of the minimum, by a path that may differ
        # in the last float32 bits of the grid ranking between a batch and its row
        np.testing.assert_allclose(one.pose3d[0], batch.pose3d[i], atol=1e-7)
        np.testing.assert_allclose(one.reprojected[0], batch.reprojected[i], atol=1e-5)
        assert one.angle[0] == pytest.approx(batch.angle[i], abs=1e-7) and one.component[0] == batch.component[i]
        grid = Lifter(model, search="grid")
        exact = grid.lift(y[i])  # the grid search alone is exactly row-wise
        np.testing.assert_allclose(exact.pose3d[0], grid.lift(y).pose3d[i], atol=1e-12)


@pytest.fixture(scope="module")
def mixture():
    """A 3-component mixture with the shipped model's J, its frames noisy and with continuous per-joint weights."""
    model = make_model(K=3, J=24, seed=4)
    canon, _, theta, _ = sample_poses(model, 60, seed=8)
    rng = np.random.default_rng(2)
    y = project(rotate_ground(canon, theta), scale=200.0, offset=(300, 300)) + rng.normal(scale=3.0, size=(60, 17, 2))
    w = rng.uniform(0.5, 1.0, size=(60, 17))
    w[::7, 4] = 0  # and some missing joints
    return model, y, w


def test_default_search_with_continuous_weights_equals_the_per_pattern_golden_refinement(mixture):
    # The default search (per-frame normal equations, pruned components, Newton) must give what the per-weight-row
    # implementation with a golden-section refinement gives (the search of earlier versions): the same local minimum.
    model, y, w = mixture
    new = Lifter(model).lift(y, w)
    old = Lifter(model, search="refine").lift(y, w)
    assert np.all(new.status == STATUS_OK)
    np.testing.assert_array_equal(new.component, old.component)
    np.testing.assert_allclose(new.cost, old.cost, rtol=1e-9)
    np.testing.assert_allclose(new.pose3d, old.pose3d, atol=1e-6 * np.abs(old.pose3d).max())
    np.testing.assert_allclose(new.scale, old.scale, rtol=1e-6)
    # never worse; the cost after Newton's last step (< 5e-4 rad) is its second-order prediction, exact to ~step^3
    # (here <= 5e-10 relative)
    assert np.all(new.cost <= old.cost * (1 + 1e-9))


def test_default_search_finds_the_exhaustive_optimum(mixture):
    # exact and noisy 2D, all weights 1: never worse than 10,000 angles, and the same pose
    model, y, _ = mixture
    canon, _, theta, _ = sample_poses(model, 30, seed=9)
    exact = project(rotate_ground(canon, theta), scale=200.0)
    for y2 in (exact, y[:30]):
        ref = Lifter(model, num_angles=10000, search="grid").lift(y2)
        new = Lifter(model).lift(y2)
        assert np.all(new.cost <= ref.cost * (1 + 1e-9))
        np.testing.assert_array_equal(new.component, ref.component)
        np.testing.assert_allclose(new.pose3d, ref.pose3d, atol=2e-3 * np.abs(ref.pose3d).max())


def test_rank_basins_hand_worked():
    from lifting.lift import _basins

    cost = np.array([[3, 1, 2, 5, 0.5, 4],   # minima at 4 (lowest) and 1
                     [1, 3, 4, 2, 5, 0.8],   # around the circle: 5 (0.8 <= 1 at index 0) and 3; 0 is not one
                     [2, 2, 2, 2, 2, 2],     # flat: the lowest angle only
                     [5, 1, 1, 5, 3, 4]])    # a plateau counts once (its first angle), then 4
    np.testing.assert_array_equal(_basins(cost, 2), [[4, 1], [5, 3], [0, -1], [1, 4]])
    np.testing.assert_array_equal(_basins(cost, 3)[0], [4, 1, -1])
    np.testing.assert_array_equal(_basins(cost, 1)[:, 0], [4, 5, 0, 1])
    np.testing.assert_array_equal(_basins(cost[None], 2)[0], _basins(cost, 2))  # any leading shape


@pytest.fixture(scope="module")
def bench_frames():
    """The shipped model and the frames of benchmarks/bench_lift.py: noisy 2D, weights uniform in [0.5, 1]."""
    from lifting.model import load_model

    model = load_model()
    canon, _, theta, _ = sample_poses(model, 30000, seed=3)
    rng = np.random.default_rng(4)
    y = project(rotate_ground(canon, theta), scale=300.0, offset=(500, 400)) + rng.normal(scale=3.0,
                                                                                         size=(30000, 17, 2))
    return model, y, rng.uniform(0.5, 1.0, size=(30000, 17))


def _score(lifter, res, w):
    """Each frame's negative log posterior (up to a constant): what the search minimises over components."""
    k = res.component
    return 0.5 * res.cost + lifter.log_prior_det[k] + np.count_nonzero(w > 0, axis=1) * np.log(lifter.nu[k])


def test_continuous_weights_in_a_big_batch_are_never_worse_than_the_grid_of_their_own_weights(bench_frames):
    # The first 22 are frames where ranking by visibility with one basin a component ended in a local minimum worse
    # than the 80-angle grid of the frame's own weights; a batch of >= level_min_frames is ranked with levels.
    model, y, w = bench_frames
    hard = [1757, 3310, 3415, 5024, 6617, 6934, 6977, 7430, 11497, 13115, 14589, 15989, 16020, 17261, 18499, 21302,
            21479, 22961, 28836, 28895, 28948, 29917]
    frames = np.r_[hard, np.arange(300)]
    lifter = Lifter(model)
    assert len(frames) >= lifter.level_min_frames
    new = lifter.lift(y[frames], w[frames])
    grid = Lifter(model, search="grid").lift(y[frames], w[frames])
    assert np.all(new.status == STATUS_OK)
    assert np.all(new.cost <= grid.cost * (1 + 1e-9))


def test_one_heavy_joint_never_worse_than_the_grid(bench_frames):
    # A joint weighing 50 times the others skews the ranking: frames 87 and 289 ended on their bracket's edge after
    # the golden-section search, which was not moved on, worse than the grid of their own weights.
    model, y, w = bench_frames
    y, w = y[:300], w[:300].copy()
    w[:, 0] = 50
    lifter, grid = Lifter(model), Lifter(model, search="grid")
    new, ref = lifter.lift(y, w), grid.lift(y, w)
    s, s_ref = _score(lifter, new, w), _score(grid, ref, w)
    assert np.all(s <= s_ref + 1e-9 * np.abs(s_ref))


def test_huge_weights_give_each_frame_its_own_answer(bench_frames):
    # weights beyond float32's range in the ranking grid: no frame may be left without a candidate (it read the last
    # pair solved, another frame's) and a batch of them must not fail
    model, y, w = bench_frames
    y, w = y[:300], w[:300].copy()
    lifter = Lifter(model)
    w[7] *= 1e40
    batch, alone = lifter.lift(y, w), lifter.lift(y[7], w[7])
    assert batch.status[7] == alone.status[0]
    np.testing.assert_allclose(batch.cost[7], alone.cost[0], rtol=1e-6)
    every = lifter.lift(y, w * 1e40)
    assert every.status.shape == (300,) and np.all(np.isin(every.status, [STATUS_OK, 5]))


#: run in a fresh process (the suite's earlier tests leave threads behind, and a process with other threads does not
#: fork): the mixture fixture's frames, a lifter that forks from the first pair, several runs of pairs
_FORKING = """
import os, sys
import numpy as np
import lifting.lift as lift_module
from lifting.geometry import project, rotate_ground
from lifting.lift import Lifter
from lifting.synthetic import make_model, sample_poses

model = make_model(K=3, J=24, seed=4)
canon, _, theta, _ = sample_poses(model, 60, seed=8)
rng = np.random.default_rng(2)
y = project(rotate_ground(canon, theta), scale=200.0, offset=(300, 300)) + rng.normal(scale=3.0, size=(60, 17, 2))
w = rng.uniform(0.5, 1.0, size=(60, 17))
w[::7, 4] = 0
prior = (np.linspace(0, 6, 60), 0.3)

def lifter(workers):
    out = Lifter(model, workers=workers)
    out.refine_chunk, out.parallel_min_pairs = 16, 0
    return out

assert lift_module._can_fork(), "this process should be able to fork"
"""


def _run_forking(code):
    import subprocess
    import sys

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    return subprocess.run([sys.executable, "-c", _FORKING + code], cwd=root, capture_output=True, text=True,
                          timeout=300)


def test_forked_workers_give_the_same_results():
    out = _run_forking("""
a, b = lifter(1).lift(y, w, angle_prior=prior), lifter(2).lift(y, w, angle_prior=prior)
for field in ("pose3d", "angle", "cost", "scale", "component", "status"):
    np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
# the angle series' path (every weight 1): its parts in two processes, three a process
one, two = lifter(1), lifter(2)
one.series_min_frames = two.series_min_frames = 1
one.series_part_frames = two.series_part_frames = 10
calls = []
fork_map = lift_module._fork_map
lift_module._fork_map = lambda fn, items: calls.append(len(items)) or fork_map(fn, items)
a, b = one.lift(y, angle_prior=prior), two.lift(y, angle_prior=prior)
assert calls == [2], calls  # one call, two parts (workers=1 never calls it)
for field in ("component", "status"):
    np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
for field in ("pose3d", "angle", "cost", "scale"):  # products of other sizes: rounding
    np.testing.assert_allclose(getattr(a, field), getattr(b, field), rtol=1e-9, atol=1e-12)
print("same")
""")
    assert out.returncode == 0 and out.stdout.strip() == "same", out.stderr[-2000:]
    with pytest.raises(ValueError, match="workers must be >= 1"):
        Lifter(make_model(K=1, J=4, seed=3), workers=0)


def test_a_worker_that_dies_is_an_error_not_a_hang():
    out = _run_forking("""
def _die(i):
    os._exit(3)  # a worker killed (out of memory, a crash): no exception, no result

lift_module._forked_call = _die
try:
    lifter(2).lift(y, w)
except RuntimeError as e:
    print(e)
""")
    assert out.returncode == 0 and "a worker process of the lift died" in out.stdout, out.stdout + out.stderr[-2000:]


def _fail(i):
    raise AssertionError("a fork with another thread alive")


def test_a_process_with_other_threads_does_not_fork(mixture, monkeypatch):
    # a fork copies the locks other threads hold (two lifts in two threads, each forking, hung): with another thread
    # alive the lift runs in its own process, with the same results as one that never forks
    import threading
    from concurrent.futures import ThreadPoolExecutor

    import lifting.lift as lift_module

    model, y, w = mixture
    lifter = Lifter(model, workers=2)
    lifter.refine_chunk, lifter.parallel_min_pairs = 16, 0
    alone = Lifter(model, workers=1)
    alone.refine_chunk = 16
    monkeypatch.setattr(lift_module, "_forked_call", _fail)  # a fork would fail the call
    stop = threading.Event()
    with ThreadPoolExecutor(1) as other:
        other.submit(stop.wait, 30)
        assert threading.active_count() > 1 and not lift_module._can_fork()
        np.testing.assert_array_equal(lifter.lift(y, w).pose3d, alone.lift(y, w).pose3d)
        stop.set()


def test_runs_shared_among_workers_hand_worked():
    from lifting.lift import _share

    runs = [(np.arange(n), False) for n in (3, 3, 3, 3)]
    assert [[len(s) for s, _ in g] for g in _share(runs, 2)] == [[3, 3], [3, 3]]
    assert [[len(s) for s, _ in g] for g in _share(runs, 3)] == [[3, 3], [3], [3]]
    uneven = [(np.arange(n), False) for n in (10, 1, 1)]
    assert [[len(s) for s, _ in g] for g in _share(uneven, 2)] == [[10], [1, 1]]
    assert _share(runs, 1) == [runs] and _share(runs[:1], 4) == [runs[:1]]


def test_profile_derivatives_match_finite_differences(mixture):
    # f' and f'' of the profile cost from the closed forms in Lifter._eval against central differences
    model, y, w = mixture
    lifter = Lifter(model, scale_bounds=(1e-9, 1e9))  # the bound never active: the cost is the smooth profile
    yc = y[:5] - (np.einsum("nl,nlc->nc", w[:5], y[:5]) / w[:5].sum(1)[:, None])[:, None]
    pieces = lifter._pieces(w[:5], yc.reshape(5, -1) / 100, np.array([0, 0, 1, 2, 2]))
    theta = np.array([0.3, 1.7, -2.0, 2.9, 0.0])
    _, x, _, f1, f2, dx = lifter._eval(theta, pieces, derivs=True)
    h = 1e-4
    lo = lifter._eval(theta - h, pieces, derivs=True)
    hi = lifter._eval(theta + h, pieces, derivs=True)
    np.testing.assert_allclose(f1, (hi[0] - lo[0]) / (2 * h), rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(f2, (hi[3] - lo[3]) / (2 * h), rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(dx, (hi[1] - lo[1]) / (2 * h), rtol=1e-5, atol=1e-8 * np.abs(x).max())


def test_pattern_cache_is_bounded_in_bytes(model, data):
    y = data[4][:40].copy()
    w = np.ones((40, 17))
    for i in range(40):
        w[i, i % 17] = 0  # 17 distinct visibility patterns
    lifter = Lifter(model, search="grid", cache_bytes=3 * 1024 * 1024)
    lifter.lift(y, w)
    entry = next(iter(lifter._cache.values())).nbytes
    assert 1 < len(lifter._cache) < 17 and sum(e.nbytes for e in lifter._cache.values()) <= 3 * 1024 * 1024
    assert len(lifter._cache) == (3 * 1024 * 1024) // entry


def test_unknown_search_is_refused(model):
    with pytest.raises(ValueError, match="search must be one of optimum, grid, refine"):
        Lifter(model, search="fast")


def test_frame_record_is_the_result_of_that_frame_and_null_where_not_lifted():
    """LiftResult.frame_record: the lift file's record of one frame, the arrays' values for a lifted frame and null
    (never NaN) for a frame that could not be lifted."""
    import json

    m = make_model(K=2, J=3, seed=5)
    canon, _, theta, _ = sample_poses(m, 2, seed=6)
    y = project(rotate_ground(canon, theta), scale=200.0, offset=(300, 300))
    y[1] = 5.0  # every joint at one point: nothing to lift
    res = Lifter(m, num_angles=24).lift(y)
    good, bad = res.frame_record(0), res.frame_record(1)
    assert good["status"] == "ok" and good["component"] == int(res.component[0])
    np.testing.assert_allclose(good["pose3d_mm"], res.pose3d_mm[0], atol=1e-3)
    np.testing.assert_allclose(good["reprojected"], res.reprojected[0], atol=1e-3)
    assert good["angle_rad"] == pytest.approx(float(res.angle[0]))
    assert bad["status"] == "all visible points identical"
    assert bad["pose3d_mm"] is None and bad["angle_rad"] is None and bad["coefficients"] is None
    json.dumps([good, bad], allow_nan=False)  # valid JSON


@pytest.fixture(scope="module")
def real_missing():
    """The real Human3.6M fixture frames with their own (tilted) cameras, 5 px of 2D noise, and 8% of the joints
    missing at random (most frames a visibility row of their own), 0/1 and continuous weights."""
    from lifting.cameras import read_h36m_cameras_json
    from lifting.model import load_model
    from tests.helpers import shared_path

    z = np.load(shared_path("data", "h36m_fixture", "labels.npz"))
    cams = read_h36m_cameras_json(shared_path("data", "h36m_fixture", "cameras.json"))
    rng = np.random.default_rng(11)
    out = []
    for i in range(len(z["image"])):
        y = z["joints2d_px"][i] + rng.normal(scale=5.0, size=(150, 17, 2))
        vis = rng.random((150, 17)) >= 0.08
        out.append((cams[(str(z["subject"][i]), str(z["camera"][i]))].E, y, vis, rng.uniform(0.5, 1.0, (150, 17))))
    return load_model(), out


def test_rows_with_a_few_joints_missing_lift_as_with_grids_of_their_own(real_missing):
    # The downdate of the all-visible ranking grid (Woodbury) must rank exactly as the row's own grid: the same
    # frames, the same components, costs and poses, on real cameras with noisy 2D; and it must have been used.
    model, frames = real_missing
    for E, y, vis, conf in frames:
        for w in (vis.astype(float), conf * vis):
            fast, own = Lifter(model, camera=E), Lifter(model, camera=E, drop_max_joints=0)
            fast.level_min_frames = own.level_min_frames = 100  # continuous weights ranked with levels q != 1
            a, b = fast.lift(y, w), own.lift(y, w)
            np.testing.assert_array_equal(a.status, b.status)
            ok = a.status == STATUS_OK
            assert ok.mean() > 0.6  # S5 lying on the floor: often implausible (outside the model)
            np.testing.assert_array_equal(a.component[ok], b.component[ok])
            np.testing.assert_allclose(a.cost[ok], b.cost[ok], rtol=1e-8)
            np.testing.assert_allclose(a.pose3d[ok], b.pose3d[ok], atol=1e-5 * np.abs(b.pose3d[ok]).max())
            # grids built: the row with every joint (the downdates' base: one a weight level), and each row with
            # more than 4 joints missing; the other way, one a visibility row (as many as the cache keeps)
            many = np.unique(vis[((~vis).sum(1) > 4) & (vis.sum(1) >= fast.min_visible)], axis=0)
            grids = [np.frombuffer(k[6:]) for k in fast._cache if k.startswith(b"order0")]
            bases = sum(np.all(g == g[0]) for g in grids)
            assert (bases == 1 if np.all(w[w > 0] == 1) else 1 <= bases <= 4) and len(grids) - bases == len(many)
            assert sum(k.startswith(b"order0") for k in own._cache) > 10 + len(many)
            assert any(k.startswith(b"hat") for k in fast._cache)


def test_downdated_ranking_equals_the_rows_own_grid_hand_checked(real_missing):
    # _rank with a downdate against _rank with the row's own grid: angles, costs (float32), neighbours' excess,
    # vertices; 1 to 4 joints missing, weight levels 1 and 2^(1/4), and scale bounds tight enough that the bound's
    # penalty (which needs the downdated scale and (N^-1)_00) moves angles
    model, frames = real_missing
    E, y, _, _ = frames[2]
    lifter = Lifter(model, camera=E, scale_bounds=(0.97, 1.03))
    for q in (1.0, 2 ** 0.25):
        hat = lifter._hat(q)
        base_sp = lifter._series(np.full(17, q), order=0)
        for missing in ([4], [0, 16], [3, 6, 13], [1, 2, 11, 15]):
            w = np.full(17, q)
            w[missing] = 0
            yv = y[:40] - np.einsum("l,nlc->nc", w, y[:40])[:, None] / w.sum()
            yv = (yv * (w > 0)[:, None]).reshape(40, -1)
            yv *= lifter.target_spread / np.sqrt((yv ** 2).sum(1) / (w > 0).sum())[:, None]
            (drop,) = lifter._downdates(hat, [np.array(missing)])
            frames_ = np.arange(40)
            got = lifter._rank(base_sp, yv, frames_, np.repeat(np.full(17, q), 2), basins=2,
                               drops=[(np.arange(40), drop)], hat=hat)
            ref = lifter._rank(lifter._series(w, order=0), yv, frames_, np.repeat(w, 2), basins=2)
            np.testing.assert_allclose(got[1], ref[1])  # y'Wy: the same with the row's weights as with q everywhere
            # float32 sums: within the resolution the ranking allows for (1e-5 y'Wy / nu, see Lifter._rank); an angle
            # may differ from the row's own grid only by a step where the two tie to that resolution
            res = np.broadcast_to(1e-5 * (got[1][:, None] / lifter.nu)[..., None], got[3].shape)
            found = np.isfinite(ref[3])
            np.testing.assert_array_equal(np.isfinite(got[3]), found)
            assert np.all(np.abs(got[3][found] - ref[3][found]) <= res[found])
            same = got[2] == ref[2]
            assert same.mean() > 0.98 and np.all(np.abs(wrap(2 * np.pi * (got[2] - ref[2])[~same] / 80)) < 0.08)
            assert np.all(np.abs(got[4] - ref[4])[same] <= 3 * res[same])
            np.testing.assert_allclose(got[5][same], ref[5][same], atol=0.1)  # a start: float32 noise, flat bottoms
            # and the pieces: the downdated (N^-1)_00 and scale at every grid angle
            np.testing.assert_allclose(drop.v0, lifter._series(w, order=0).v0, rtol=1e-9)
            s_own = yv @ lifter._series(w, order=0).scale.reshape(-1, 34).T
            hy = (yv @ hat.H[drop.c].reshape(-1, 34).T).reshape(40, len(drop.c), -1)
            s_fast = yv @ hat.scale.T + np.einsum("njr,rjl,rl->nr", hy, drop.M, drop.fJ)
            np.testing.assert_allclose(s_fast, s_own, rtol=1e-9, atol=1e-12)


def test_small_inverses_hand_worked():
    from lifting.lift import _small_inverses

    S = np.array([[[2.0, 0.0], [0.0, 4.0]],
                  [[2.0, 1.0], [1.0, 2.0]],       # inverse [[2, -1], [-1, 2]] / 3
                  [[1.0, 1.0], [1.0, 1.0]],       # singular
                  [[1.0, 0.0], [0.0, 1e-10]]])    # near singular: an entry of 1e10 > 1e8
    inv = _small_inverses(S, 1e8)
    np.testing.assert_allclose(inv[0], [[0.5, 0.0], [0.0, 0.25]])
    np.testing.assert_allclose(inv[1], np.array([[2.0, -1.0], [-1.0, 2.0]]) / 3)
    assert np.isnan(inv[2]).all() and np.isnan(inv[3]).all()
    np.testing.assert_allclose(_small_inverses(S[:2], 1e8), inv[:2])  # no singular one: one batched call


def test_a_row_whose_downdate_is_refused_gets_its_own_grid(real_missing, monkeypatch):
    import lifting.lift as lift_module

    model, frames = real_missing
    E, y, vis, _ = frames[0]
    some = ~vis.all(1)  # no frame with every joint: the downdates' base row is no group of its own (it crashed)
    y, vis = y[some][:60], vis[some][:60]
    w = vis.astype(float)
    ref = Lifter(model, camera=E, drop_max_joints=0).lift(y, w)
    monkeypatch.setattr(lift_module, "_small_inverses", lambda S, largest: np.full(S.shape, np.nan))
    lifter = Lifter(model, camera=E, cache_bytes=256 << 20)
    got = lifter.lift(y, w)
    np.testing.assert_array_equal(got.component, ref.component)
    np.testing.assert_allclose(got.cost, ref.cost, rtol=1e-8)
    # a grid for every visibility row, and the all-visible one (the refused downdates' base)
    rows = sum(k.startswith(b"order0") for k in lifter._cache)
    assert rows == len(np.unique(vis[vis.sum(1) >= lifter.min_visible], axis=0)) + 1


def test_downdates_refused_where_near_singular_lift_as_their_own_grids():
    # no monkeypatch: weights 2^16 on a model trusted 10x more than the default (noise_2d 0.005) leave I - H_cc near
    # singular for these joints (the downdates are refused), and no frame has every joint
    from lifting.model import load_model

    model = load_model()
    canon, _, theta, _ = sample_poses(model, 300, seed=1)
    y = project(rotate_ground(canon, theta), scale=200.0, offset=(300, 300))
    w = np.full((300, 17), 65536.0)
    w[:, [3, 6, 13]] = 0
    lifter = Lifter(model, noise_2d=0.005)
    (drop,) = lifter._downdates(lifter._hat(65536.0), [np.array([3, 6, 13])])
    assert drop is None
    got, ref = lifter.lift(y, w), Lifter(model, noise_2d=0.005, drop_max_joints=0).lift(y, w)
    np.testing.assert_array_equal(got.status, ref.status)
    np.testing.assert_allclose(got.cost, ref.cost, rtol=1e-9)


def test_reported_cost_is_the_cost_at_the_reported_angle_with_tight_scale_bounds():
    # Newton's last small step predicts the cost with the free profile's derivatives; where the scale then crosses a
    # bound, golden section started from that prediction (lower than the bounded cost: up to 8.7e-6 relative
    # below the truth on 4 of these 300 frames) and kept it
    from lifting.model import load_model

    model = load_model()
    canon, _, theta, _ = sample_poses(model, 300, seed=1)
    rng = np.random.default_rng(1)
    y = project(rotate_ground(canon, theta), scale=200.0, offset=(300, 300)) + rng.normal(scale=3.0, size=(300, 17, 2))
    w = (rng.random((300, 17)) >= 0.08).astype(float)
    lifter = Lifter(model, scale_bounds=(0.97, 1.03))
    r = lifter.lift(y, w)
    assert r.scale_at_bound.sum() > 30
    # the same normalisation as Lifter.lift, then the exact profile at the returned angles
    c = np.einsum("nl,nlc->nc", w, y) / w.sum(1)[:, None]
    yc = (y - c[:, None]) * (w[..., None] > 0)
    spread = np.sqrt(np.einsum("nl,nlc->n", w, yc ** 2) / w.sum(1))
    yn = (yc * (lifter.target_spread / spread)[:, None, None]).reshape(len(y), -1)
    ok = r.status == STATUS_OK
    truth, _, _ = lifter._eval(r.angle[ok], lifter._pieces(w[ok], yn[ok], r.component[ok]))
    np.testing.assert_allclose(r.cost[ok], truth, rtol=1e-9)
