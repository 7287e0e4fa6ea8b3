"""Report formatting: per-action error tables in the layout of the paper's Table 1, as rows, markdown and CSV.

The numbers come from :func:`lifting.metrics.per_action`; nothing here computes an error.
"""
from __future__ import annotations

import csv
import io

from . import skeleton


def table1(rows):
    """Rows ``{method: per_action(...)}`` -> list of header + rows in the paper's Table 1 layout (15 + Avg)."""
    header = ["Method"] + [title for _, title in skeleton.H36M_ACTIONS] + ["Avg", "Avg (frames)"]
    out = [header]
    for method, (table, action_mean, frame_mean) in rows.items():
        cells = [method]
        for key, _ in skeleton.H36M_ACTIONS:
            cells.append(f"{table[key][0]:.2f}" if key in table else "-")
        cells += [f"{action_mean:.2f}", f"{frame_mean:.2f}"]
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
    """``{model: model_fitting.views.summarise(...)}`` -> a markdown table with mean and median errors, limb-scale
    blow-ups and frames not lifted."""
    lines = ["| model | frames | not lifted | MPJPE mean | MPJPE median | P-MPJPE mean | P-MPJPE median | "
             "limb scale off > 1.5x |", "|---|---|---|---|---|---|---|---|"]
    f = lambda v: "-" if v is None else f"{v:.2f}"  # noqa: E731
    for name, s in summaries.items():
        lines.append(f"| {name} | {s['frames']} | {s['failed']} | {f(s['mpjpe_mean'])} | {f(s['mpjpe_median'])} | "
                     f"{f(s['p_mpjpe_mean'])} | {f(s['p_mpjpe_median'])} | "
                     + ("-" if s["scale_off_1.5x"] is None else f"{100 * s['scale_off_1.5x']:.2f}%") + " |")
    return "\n".join(lines)
