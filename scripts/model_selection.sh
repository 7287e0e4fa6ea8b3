#!/usr/bin/env bash
# Choice of J (basis size) and K (components) of the shipped model: fit on S1,S5-S8 of the shared poses, evaluate on
# S9 (exact and noisy 2D), write results/model_selection.md. About 5 minutes on 2 cores.
#   scripts/model_selection.sh [J list] [K list]
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=../shared/data/h36m_poses_17j_5fps.npz
JS="${1:-16 24 32}"
KS="${2:-1 3}"
OUT=results/model_selection
mkdir -p "$OUT"
models=()
for J in $JS; do
  for K in $KS; do
    .venv/bin/lifting fit --h36m-npz "$DATA" --subjects S1,S5,S6,S7,S8 -J "$J" -K "$K" -o "$OUT/J${J}_K${K}.h5" \
      > "$OUT/J${J}_K${K}.log" 2>&1
    models+=(--model "J=$J K=$K=$OUT/J${J}_K${K}.h5")
  done
done
.venv/bin/lifting evaluate "${models[@]}" --h36m-npz "$DATA" -o "$OUT/exact"
.venv/bin/lifting evaluate "${models[@]}" --h36m-npz "$DATA" --noise-mm 20 -o "$OUT/noise20mm"
{
  echo "# Model selection (S9, P-MPJPE / MPJPE in mm; made by scripts/model_selection.sh)"
  echo
  echo "| model | exact P-MPJPE | exact MPJPE | noisy (20 mm) P-MPJPE | noisy MPJPE |"
  echo "|---|---|---|---|---|"
  .venv/bin/python - "$OUT" <<'PY'
import json, sys
out = sys.argv[1]
ex = json.load(open(f"{out}/exact.json"))["h36m"]
no = json.load(open(f"{out}/noise20mm.json"))["h36m"]
for name in ex["p_mpjpe"]:
    row = [ex["p_mpjpe"][name][2], ex["mpjpe"][name][2], no["p_mpjpe"][name][2], no["mpjpe"][name][2]]
    print(f"| {name} | " + " | ".join(f"{v:.2f}" for v in row) + " |")
PY
} > results/model_selection.md
cat results/model_selection.md
