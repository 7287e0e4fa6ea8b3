"""Report formatting: per-action error tables in the layout of the paper's Table 1 (rows, markdown, CSV), its Table 2
and the per-stage errors of its Figure 3.

The numbers come from :func:`lifting.metrics.per_action`; nothing here computes an error.
"""
from __future__ import annotations

import csv
import io

from . import skeleton


def _cell(v):
    return "-" if v is None or v != v else f"{v:.2f}"


def table1(rows):
    """Rows ``{method: per_action(...)}`` -> list of header + rows in the paper's Table 1 layout: its 15 actions in
    its column order, then the two averages, labelled (the mean of the action means; every frame weighted equally).
    A value None (or NaN) prints as ``-``."""
    header = (["Method"] + [title for _, title in skeleton.H36M_ACTIONS]
              + ["Avg (action mean)", "Avg (frame-weighted)"])
    out = [header]
    for method, (table, action_mean, frame_mean) in rows.items():
        cells = [method]
        for key, _ in skeleton.H36M_ACTIONS:
            cells.append(_cell(table[key][0]) if key in table else "-")
        cells += [_cell(action_mean), _cell(frame_mean)]
        out.append(cells)
    return out


def table_markdown(rows):
    """Table 1 layout as a markdown table."""
    t = table1(rows)
    lines = ["| " + " | ".join(t[0]) + " |", "|" + "---|" * len(t[0])]
    lines += ["| " + " | ".join(r) + " |" for r in t[1:]]
    return "\n".join(lines) + "\n"


def table_csv(rows):
    """Table 1 layout as CSV text."""
    buf = io.StringIO()
    csv.writer(buf).writerows(table1(rows))
    return buf.getvalue()


def summary_markdown(summaries):
    """``{model: model_fitting.views.LiftAccuracy}`` -> a markdown table with mean and median errors, limb-scale
    blow-ups and frames not lifted."""
    lines = ["| model | frames | not lifted | MPJPE mean | MPJPE median | P-MPJPE mean | P-MPJPE median | "
             "limb scale off > 1.5x |", "|---|---|---|---|---|---|---|---|"]
    f = lambda v: "-" if v is None else f"{v:.2f}"  # noqa: E731
    for name, s in summaries.items():
        lines.append(f"| {name} | {s.frames} | {s.failed} | {f(s.mpjpe_mean)} | {f(s.mpjpe_median)} | "
                     f"{f(s.p_mpjpe_mean)} | {f(s.p_mpjpe_median)} | "
                     + ("-" if s.scale_off_1_5x is None else f"{100 * s.scale_off_1_5x:.2f}%") + " |")
    return "\n".join(lines)


def summary_frames_markdown(runs):
    """``{label: lifting.image_eval.RunSummary}`` -> frames, not lifted, and mean / median of protocol 1,
    protocol 2 and the final 2D error."""
    lines = ["| run | frames | not lifted | MPJPE (P1) mean / median mm | P-MPJPE (P2) mean / median mm | "
             "final 2D mean / median px |", "|---|---|---|---|---|---|"]
    for label, s in runs.items():
        cells = [f"{_cell(e.frame_mean)} / {_cell(e.median)}" for e in (s.p1, s.p2, s.px2d)]
        lines.append(f"| {label} | {s.frames} | {s.not_lifted} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def table2_markdown(rows, paper_rows):
    """The paper's Table 2 layout: ``rows`` ``[(method, stats)]`` (:class:`lifting.image_eval.ErrorStats`, px)
    beside ``paper_rows`` ``{method: px}`` (literal reference data)."""
    lines = ["| method | 2D pixel error, mean px | median px | frames |", "|---|---|---|---|"]
    lines += [f"| {m} | {_cell(s.frame_mean)} | {_cell(s.median)} | {s.frames} |" for m, s in rows]
    lines += [f"| {m} | {_cell(v)} | - | - |" for m, v in paper_rows.items()]
    return "\n".join(lines) + "\n"


def stages_markdown(stages):
    """``{label: [lifting.image_eval.StageSummary]}`` -> one row per run and stage."""
    lines = ["| run | stage | 2D argmax px mean / median | MPJPE (P1) mm mean / median | P-MPJPE (P2) mm mean / median "
             "| not lifted |", "|---|---|---|---|---|---|"]
    for label, rows in stages.items():
        for r in rows:
            lines.append(f"| {label} | {r.stage} | {_cell(r.px2d_mean)} / {_cell(r.px2d_median)} | "
                         f"{_cell(r.p1_mean)} / {_cell(r.p1_median)} | {_cell(r.p2_mean)} / "
                         f"{_cell(r.p2_median)} | {r.not_lifted} |")
    return "\n".join(lines) + "\n"
