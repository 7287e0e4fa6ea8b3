"""The paper's own numbers, stored as literal reference data to print beside computed results (never used to
compute anything). Source: Tome, Russell, Agapito, "Lifting from the Deep: Convolutional 3D Pose Estimation from a
Single Image", CVPR 2017, sec. 6 (Human3.6M, subjects S9 and S11, all 4 cameras, 10 fps): Table 1 (3D error, mm,
per action) and Table 2 (2D pixel error).
"""
from __future__ import annotations

SOURCE = "Tome et al., Lifting from the Deep, CVPR 2017"

#: Table 1, the paper's two rows: action key (lifting.skeleton.H36M_ACTIONS) -> mm; "average" is the paper's
#: "Average" column, which is not the mean of its action columns (93.26 and 88.53): see lifting.metrics.per_action.
TABLE1 = {
    "Ours - Single PPCA Model (paper, Table 1)": {
        "directions": 68.55, "discussion": 78.27, "eating": 77.22, "greeting": 89.05, "phoning": 91.63,
        "takingphoto": 110.05, "posing": 74.92, "purchases": 83.71, "sitting": 115.94, "sittingdown": 185.72,
        "smoking": 88.25, "waiting": 88.73, "walkingdog": 92.37, "walking": 76.48, "walkingtogether": 77.95,
        "average": 92.96},
    "Ours - Mixture PPCA Model (paper, Table 1)": {
        "directions": 64.98, "discussion": 73.47, "eating": 76.82, "greeting": 86.43, "phoning": 86.28,
        "takingphoto": 110.67, "posing": 68.93, "purchases": 74.79, "sitting": 110.19, "sittingdown": 173.91,
        "smoking": 84.95, "waiting": 85.78, "walkingdog": 86.26, "walking": 71.36, "walkingtogether": 73.14,
        "average": 88.39},
}

#: Table 2, 2D pixel error (px): the rows the reproduction compares with.
TABLE2 = {
    "Trained CPM architecture (paper, Table 2)": 10.04,
    "Ours including 3D refinement (paper, Table 2)": 9.47,
}
