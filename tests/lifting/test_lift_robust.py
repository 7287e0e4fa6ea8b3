"""Lifting that holds up on real cameras and noisy or implausible 2D: the bounded scale, the 2D noise level, the
implausible-pose status; real Human3.6M frames with their own cameras."""
import numpy as np
import pytest

from lifting import metrics, skeleton
from lifting.cameras import read_h36m_cameras_json
from lifting.geometry import UPRIGHT_CAMERA, project, rotate_ground
from lifting.lift import STATUS_IMPLAUSIBLE, STATUS_OK, Lifter
from lifting.model import load_model
from lifting.synthetic import make_model, sample_poses
from tests.helpers import shared_path


@pytest.fixture(scope="module")
def fixture():
    z = np.load(shared_path("data", "h36m_fixture", "labels.npz"))
    cams = read_h36m_cameras_json(shared_path("data", "h36m_fixture", "cameras.json"))
    return z, [cams[(str(s), str(c))] for s, c in zip(z["subject"], z["camera"])]


@pytest.mark.parametrize("search", ["optimum", "grid"])
def test_bounded_scale_is_the_exact_constrained_optimum(search):
    """At a fixed angle the bounded problem is a quadratic in (s, b) with s in [lo, hi]; its minimum must equal a
    dense scan over s with b solved exactly for each s."""
    model = make_model(K=1, J=4, seed=7)
    canon, _, theta, _ = sample_poses(model, 1, seed=2)
    y = project(rotate_ground(canon, theta), UPRIGHT_CAMERA, scale=200.0)
    y = y + np.random.default_rng(0).normal(size=(1, 17, 2)) * 40
    lifter = Lifter(model, num_angles=8, noise_2d=0.05, scale_bounds=(0.95, 1.05), search=search)
    r = lifter.lift(y)
    assert r.scale_at_bound[0]  # the case this test is about (unbounded: 0.925)
    # rebuild the problem at the chosen angle in normalised units, as Lifter does
    yc = y[0] - y[0].mean(0)
    yn = (yc * lifter.target_spread / np.sqrt(np.mean(np.sum(yc**2, 1)))).reshape(-1)
    # the design at the returned angle (off the grid: the default search minimises over the continuous angle)
    c, s = np.cos(r.angle[0]), np.sin(r.angle[0])
    D = (c * lifter.trig_parts[0, 0] + s * lifter.trig_parts[1, 0] + lifter.trig_parts[2, 0]).transpose(1, 2, 0)
    D = (D - D.mean(0)).reshape(34, -1)
    nu, prior = lifter.nu[0], lifter.prior[0, 1:]
    best = np.inf
    for s in np.linspace(0.95, 1.05, 2001):
        rhs = yn - s * D[:, 0]
        B = D[:, 1:]
        b = np.linalg.solve(B.T @ B / nu + np.diag(prior), B.T @ rhs / nu)
        best = min(best, np.sum((rhs - B @ b) ** 2) / nu + np.sum(prior * b * b))
    assert r.cost[0] == pytest.approx(best, rel=1e-6, abs=1e-9)
    assert 0.95 - 1e-12 <= r.scale_relative[0] <= 1.05 + 1e-12


def test_real_frames_with_their_own_cameras_are_bounded_and_upright(fixture):
    z, cams = fixture
    model = load_model()
    for i, cam in enumerate(cams):
        r = Lifter(model, camera=cam.E, refine=True).lift(z["joints2d_px"][i])
        assert r.status[0] in (STATUS_OK, STATUS_IMPLAUSIBLE), z["image"][i]
        truth = z["joints3d_camera_m"][i] * 1000
        lying = "SittingDown" in z["image"][i]  # on the floor: outside the model's ground-plane rotations
        if r.status[0] != STATUS_OK:
            assert lying
            continue
        assert 0.5 <= skeleton.limb_scale(r.pose3d[0]) <= 2.0
        if lying:
            assert metrics.p_mpjpe(r.pose3d_camera_mm, truth[None])[0] < 150
            continue
        p = r.pose3d[0]
        ji = skeleton.JOINT_INDEX
        assert p[ji["Head"], 1] > p[ji["Hip"], 1] > max(p[ji["RFoot"], 1], p[ji["LFoot"], 1])
        assert metrics.p_mpjpe(r.pose3d_camera_mm, truth[None])[0] < 80
        assert metrics.mpjpe(r.pose3d_camera_mm, truth[None])[0] < 120


def test_lying_frame_blew_up_without_the_bounds(fixture):
    """The measured failure this guards against: S5 lying on the floor, its own camera, the old unbounded scale."""
    z, cams = fixture
    i = [k for k, name in enumerate(z["image"]) if "SittingDown" in name][0]
    model = load_model()
    old = Lifter(model, camera=cams[i].E, refine=True, noise_2d=None, scale_bounds=(1e-12, 1e12),
                 limb_scale_range=(0, 1e30)).lift(z["joints2d_px"][i])
    assert skeleton.limb_scale(old.pose3d[0]) > 100  # absurd, yet it used to pass as status ok
    new = Lifter(model, camera=cams[i].E, refine=True).lift(z["joints2d_px"][i])
    assert new.status[0] == STATUS_IMPLAUSIBLE or 0.5 <= skeleton.limb_scale(new.pose3d[0]) <= 2.0
    wide = Lifter(model, camera=cams[i].E, refine=True, limb_scale_range=(0, 1e30)).lift(z["joints2d_px"][i])
    assert skeleton.limb_scale(wide.pose3d[0]) < 4  # bounded by the scale bounds alone


def test_property_no_status_ok_frame_has_an_implausible_scale(fixture):
    z, cams = fixture
    model = load_model()
    rng = np.random.default_rng(11)
    n = 1500
    E = cams[2].E
    # in-distribution poses from the model, seen by the real camera with 5% noise
    canon = model.mean[rng.integers(model.num_components, size=n)]
    canon = canon + np.einsum("nj,njlc->nlc", rng.normal(size=(n, model.num_basis)) * np.sqrt(model.variances[0]),
                              model.basis[np.zeros(n, int)])
    world = rotate_ground(canon, rng.uniform(0, 2 * np.pi, n))
    good = project(world, E, 300.0, (500, 500)) + rng.normal(size=(n, 17, 2)) * 8
    inputs = {
        "noisy": good,
        "very noisy": project(world, E, 300.0, (500, 500)) + rng.normal(size=(n, 17, 2)) * 40,
        "upside down": project(world * [1, -1, 1], E, 300.0, (500, 500)),
        "lying": project(world @ np.array([[1, 0, 0], [0, 0, -1], [0, 1, 0.0]]).T, E, 300.0, (500, 500)),
        "random": rng.uniform(0, 600, (n, 17, 2)),
        "collapsed": 500 + rng.normal(size=(n, 17, 2)) * [40, 0.5],
    }
    lifter = Lifter(model, camera=E)
    for name, y in inputs.items():
        r = lifter.lift(y)
        ok = r.status == STATUS_OK
        limb = skeleton.limb_scale(r.pose3d[ok])
        assert np.all((limb >= 0.5) & (limb <= 2.0)), name
        assert np.all(np.isfinite(r.pose3d_mm[ok])), name
        if name == "noisy":
            assert ok.mean() > 0.99  # the status does not fire on ordinary input
    assert (Lifter(model, camera=E).lift(inputs["upside down"]).status == STATUS_IMPLAUSIBLE).mean() > 0.6


def test_noise_level_parameter():
    model = make_model(K=1, J=4, seed=1)
    with pytest.raises(ValueError, match="noise_2d"):
        Lifter(model, noise_2d=0.0)
    with pytest.raises(ValueError, match="noise_2d"):
        Lifter(model, noise_2d=float("nan"))
    with pytest.raises(ValueError, match="scale_bounds"):
        Lifter(model, scale_bounds=(1.2, 2.0))
    # the 2D noise variance in normalised units follows the relative noise level
    a, b = Lifter(model, noise_2d=0.05), Lifter(model, noise_2d=0.1)
    assert b.nu[0] == pytest.approx(4 * a.nu[0])
    assert Lifter(model, noise_2d=None).nu[0] == model.noise_variance[0]
