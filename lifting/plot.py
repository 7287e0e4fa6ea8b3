"""Matplotlib drawings: 2D skeletons (on images), 3D skeletons, side-by-side figures. Always writes PNG files."""
from __future__ import annotations

import numpy as np

from . import skeleton


def _mpl():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def _colour(child):
    return "tab:red" if child in skeleton.RIGHT_JOINTS else "tab:blue"


def draw_skeleton_2d(ax, pts, weights=None, image=None, style="-", alpha=1.0, label=None, y_down=True, colour=None):
    """Draw ``pts (17, 2)`` (image coordinates, y down; ``y_down=False``: y up) on ``ax``; joints with weight 0 are
    skipped. Limbs are coloured by side (right red, left blue) unless ``colour`` is given."""
    if image is not None:
        ax.imshow(image)
    w = np.ones(len(pts)) if weights is None else np.asarray(weights)
    first = True
    for c, p in skeleton.LIMBS:
        if w[c] > 0 and w[p] > 0 and np.all(np.isfinite(pts[[c, p]])):
            ax.plot(pts[[c, p], 0], pts[[c, p], 1], style, color=colour or _colour(c), lw=2, alpha=alpha,
                    label=label if first else None)
            first = False
    vis = (w > 0) & np.isfinite(pts).all(-1)
    ax.scatter(pts[vis, 0], pts[vis, 1], s=8, c="k", alpha=alpha, zorder=3)
    if image is None:
        ax.set_aspect("equal")
        if y_down and not ax.yaxis_inverted():
            ax.invert_yaxis()


def draw_skeleton_3d(ax, pose, title=None):
    """Draw ``pose (17, 3)`` given in our world frame (y up) on a 3D axis (shown with the vertical axis up)."""
    p = np.asarray(pose)
    X, Y, Z = p[:, 0], p[:, 2], p[:, 1]  # matplotlib's z is vertical
    for c, q in skeleton.LIMBS:
        ax.plot(X[[c, q]], Y[[c, q]], Z[[c, q]], color=_colour(c), lw=2)
    ax.scatter(X, Y, Z, s=6, c="k")
    r = np.nanmax(np.abs(p - np.nanmean(p, 0))) if np.isfinite(p).any() else 1.0
    m = np.nanmean(p, 0) if np.isfinite(p).any() else np.zeros(3)
    ax.set_xlim(m[0] - r, m[0] + r)
    ax.set_ylim(m[2] - r, m[2] + r)
    ax.set_zlim(m[1] - r, m[1] + r)
    ax.set_xlabel("x")
    ax.set_ylabel("z")
    ax.set_zlabel("y (up)")
    if title:
        ax.set_title(title)


def save_lift_figure(path, points2d, pose3d, weights=None, reprojected=None, image=None, title=None):
    """PNG with the 2D input (and reprojection) on the left, the 3D skeleton on the right."""
    plt = _mpl()
    fig = plt.figure(figsize=(10, 5))
    ax = fig.add_subplot(1, 2, 1)
    draw_skeleton_2d(ax, points2d, weights, image=image, label="2D input")
    if reprojected is not None:
        draw_skeleton_2d(ax, reprojected, style="--", alpha=0.6, label="reprojected 3D")
        ax.legend(loc="lower right", fontsize=8)
    ax.set_title(title or "2D")
    ax3 = fig.add_subplot(1, 2, 2, projection="3d")
    draw_skeleton_3d(ax3, pose3d, "3D (mm)")
    _save(fig, path)


def camera_view_axes(camera):
    """The horizontal directions in our y-up world of a camera ``E (3, 3)`` (world -> camera): ``(right, away)``,
    unit vectors in the ground plane, ``away`` pointing from the camera into the scene. A tilted camera's views
    stay upright."""
    E = np.asarray(camera, np.float64)
    up = np.array([0.0, 1.0, 0.0])
    right = E[0] - E[0] @ up * up
    if np.linalg.norm(right) < 1e-6:  # camera rolled by 90 degrees: its y axis is horizontal
        right = np.cross(up, E[2])
    right /= np.linalg.norm(right)
    return right, np.cross(up, right)


def draw_estimate(fig, image, points2d, weights, pose3d_mm, camera, reprojected=None, title=None, note=None):
    """Three panels on ``fig``: the photo (RGB) with the 2D joints (and the reprojected 3D pose, dashed); the 3D pose
    ``(17, 3)`` mm (our y-up world, root at the origin; None or NaN = no 3D) seen from the camera ``E`` and from its
    right-hand side, axes in mm, y up. ``note`` is written where the 3D would be drawn when there is none."""
    import textwrap

    h, w = np.asarray(image).shape[:2]
    gs = fig.add_gridspec(1, 3, width_ratios=[1.3 * max(w / h, 0.4), 1, 1], wspace=0.3)
    ax = fig.add_subplot(gs[0])
    ax.imshow(image)
    if points2d is not None and np.any(np.asarray(weights) > 0):
        draw_skeleton_2d(ax, points2d, weights, label="2D joints")
        if reprojected is not None and np.isfinite(reprojected).all():
            draw_skeleton_2d(ax, reprojected, style="--", alpha=0.7, label="3D pose reprojected")
        ax.legend(loc="lower right", fontsize=7)
    ax.set_xlim(-0.5, w - 0.5)
    ax.set_ylim(h - 0.5, -0.5)
    ax.set_title(textwrap.fill(title or "2D", 60), fontsize=9)
    ax.axis("off")
    ok = pose3d_mm is not None and np.isfinite(pose3d_mm).all()
    right, away = camera_view_axes(camera)
    views = ((right, "from the camera", "x, camera's right (mm)"), (away, "from the side",
                                                                       "depth, away from the camera (mm)"))
    if ok:
        p = np.asarray(pose3d_mm, np.float64)
        hv = [p @ d for d, _, _ in views]
        half = 0.55 * max(np.ptp(p[:, 1]), *(np.ptp(x) for x in hv), 1.0)
        mid_y = 0.5 * (p[:, 1].max() + p[:, 1].min())
    for i, (d, name, xlabel) in enumerate(views):
        a = fig.add_subplot(gs[i + 1])
        a.set_title(f"3D, {name}", fontsize=9)
        if not ok:
            a.text(0.5, 0.5, textwrap.fill(note or "no 3D pose", 30), ha="center", va="center", fontsize=8,
                   transform=a.transAxes)
            a.set_xticks([])
            a.set_yticks([])
            continue
        x = hv[i]
        draw_skeleton_2d(a, np.stack([x, p[:, 1]], 1), y_down=False)
        mid_x = 0.5 * (x.max() + x.min())
        a.axhline(p[:, 1].min(), color="0.6", lw=0.8, ls=":")
        a.set_xlim(mid_x - half, mid_x + half)
        a.set_ylim(mid_y - half, mid_y + half)
        a.set_xlabel(xlabel, fontsize=8)
        a.set_ylabel("y, up (mm)", fontsize=8)
        a.tick_params(labelsize=7)
        a.grid(alpha=0.3)


def save_estimate_figure(path, image, points2d, weights, pose3d_mm, camera, reprojected=None, title=None,
                         note=None):
    """:func:`draw_estimate` into a PNG."""
    plt = _mpl()
    fig = plt.figure(figsize=(13, 4.5))
    draw_estimate(fig, image, points2d, weights, pose3d_mm, camera, reprojected, title, note)
    _save(fig, path)


def new_figure(width_px, height_px, dpi=100):
    """A figure of exactly ``width_px x height_px`` pixels for :func:`figure_to_rgb` (video frames)."""
    return _mpl().figure(figsize=(width_px / dpi, height_px / dpi), dpi=dpi)


def figure_to_rgb(fig):
    """The figure's pixels, ``(H, W, 3) uint8`` RGB."""
    fig.canvas.draw()
    return np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()


def close_figure(fig):
    _mpl().close(fig)


def _save(fig, path):
    from .files import atomic_path

    try:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format="png", dpi=100, bbox_inches="tight")
    finally:
        _mpl().close(fig)


def save_figure(fig, path):
    """Write a matplotlib figure to ``path`` as PNG, atomically."""
    _save(fig, path)


def save_stage_errors(path, stages, title=None):
    """The paper's Figure 3 as numbers: mean 2D error (argmax of each stage's belief maps, px) and mean 3D error
    (protocol 1 and 2 of each stage's lift, mm) per stage, one line per run. ``stages``: ``{label:
    [lifting.image_eval.StageSummary]}`` (:attr:`lifting.image_eval.RunSummary.stages`)."""
    plt = _mpl()
    fig, (a2, a3) = plt.subplots(1, 2, figsize=(11, 4.2))
    for i, (label, rows) in enumerate(stages.items()):
        t = [r.stage for r in rows]
        colour = f"C{i}"
        a2.plot(t, [r.px2d_mean for r in rows], "o-", color=colour, label=label)
        a3.plot(t, [r.p1_mean for r in rows], "o-", color=colour, label=f"{label}: MPJPE (P1)")
        a3.plot(t, [r.p2_mean for r in rows], "s--", color=colour, label=f"{label}: P-MPJPE (P2)")
    for ax, ylabel in ((a2, "mean 2D error, original-frame px"), (a3, "mean 3D error, mm")):
        ax.set_xlabel("stage")
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
        ax.xaxis.get_major_locator().set_params(integer=True)
    a2.set_title("2D: argmax of the stage's belief maps")
    a3.set_title("3D: the stage's lift")
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    _save(fig, path)
