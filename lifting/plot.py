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


def draw_skeleton_2d(ax, pts, weights=None, image=None, style="-", alpha=1.0, label=None):
    """Draw ``pts (17, 2)`` (image coordinates, y down) on ``ax``; joints with weight 0 are skipped."""
    if image is not None:
        ax.imshow(image)
    w = np.ones(len(pts)) if weights is None else np.asarray(weights)
    first = True
    for c, p in skeleton.LIMBS:
        if w[c] > 0 and w[p] > 0 and np.all(np.isfinite(pts[[c, p]])):
            ax.plot(pts[[c, p], 0], pts[[c, p], 1], style, color=_colour(c), lw=2, alpha=alpha,
                    label=label if first else None)
            first = False
    vis = (w > 0) & np.isfinite(pts).all(-1)
    ax.scatter(pts[vis, 0], pts[vis, 1], s=8, c="k", alpha=alpha, zorder=3)
    if image is None:
        ax.set_aspect("equal")
        if not ax.yaxis_inverted():
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
