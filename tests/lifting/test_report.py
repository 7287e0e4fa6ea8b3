import csv
import io

from lifting import report


def test_table1_layout_markdown_and_csv():
    rows = {"m": ({"walking": (1.0, 3), "walkingdog": (4.0, 1)}, 2.5, 1.75),
            "other": ({"directions": (12.345, 2)}, 12.345, 12.345)}
    t = report.table1(rows)
    assert t[0][6] == "Photo" and t[0][13:16] == ["Walk Dog", "Walking", "Walk Together"]  # the paper's order
    assert t[0][1] == "Directions" and t[0][-2:] == ["Avg (action mean)", "Avg (frame-weighted)"] and len(t[0]) == 18
    assert t[1][0] == "m" and t[1][13] == "4.00" and t[1][14] == "1.00" and t[1][1] == "-"
    assert t[1][-2:] == ["2.50", "1.75"] and t[2][1] == "12.35"
    md = report.table_markdown(rows).splitlines()
    assert md[0] == "| " + " | ".join(t[0]) + " |" and md[1] == "|" + "---|" * 18
    assert md[2].startswith("| m | - |") and len(md) == 4
    assert list(csv.reader(io.StringIO(report.table_csv(rows)))) == t
