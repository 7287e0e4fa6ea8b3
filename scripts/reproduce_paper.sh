#!/usr/bin/env bash
# The paper's Human3.6M experiments end to end (README, "Reproducing the paper's tables"):
#   prepare (train S1,S5-S8 and test S9,S11 at 10 fps) -> fit a K=1 model -> convert-cpm -> train the extended net and
#   the baseline CPM -> evaluate-images (extended net with K=3 and K=1, baseline CPM, true 2D) -> paper-tables.
# Usage: scripts/reproduce_paper.sh H36M_ROOT CPM_CAFFEMODEL [--gpu N]
#   H36M_ROOT      the official release (S1, S5, ... with MyPoseFeatures/ and Videos/) and cameras.h5 (Martinez et al.)
#   CPM_CAFFEMODEL the original CPM weights (pose_iter_985000_addLEEDS.caffemodel); its deploy prototxt is found beside
#                  it as pose_deploy_centerMap.prototxt unless CPM_PROTOTXT says otherwise
# Environment: WORK (default runs/paper), CAMERAS (default H36M_ROOT/cameras.h5), CPM_PROTOTXT, CPM_ORDER (mpi).
# Every step is skipped when its output is there (an interrupted training resumes from its last snapshot, an
# interrupted evaluation from its last chunk); every command run is logged to WORK/reproduce.log.
set -euo pipefail
usage() { echo "usage: $0 H36M_ROOT CPM_CAFFEMODEL [--gpu N]" >&2; exit 2; }
[ $# -ge 2 ] || usage
ROOT=$1 CPM=$2
shift 2
GPU=()
if [ $# -gt 0 ]; then
  [ "$1" = "--gpu" ] && [ $# -eq 2 ] || usage
  GPU=(--gpu "$2")
fi
HERE=$(cd "$(dirname "$0")/.." && pwd)
L=${LIFTING:-$HERE/.venv/bin/lifting}
WORK=${WORK:-runs/paper}
CAMERAS=${CAMERAS:-$ROOT/cameras.h5}
CPM_PROTOTXT=${CPM_PROTOTXT:-$(dirname "$CPM")/pose_deploy_centerMap.prototxt}
for f in "$ROOT/S9" "$ROOT/S11" "$ROOT/S1" "$CAMERAS" "$CPM" "$CPM_PROTOTXT"; do
  [ -e "$f" ] || { echo "$0: $f: not found (see README, \"Reproducing the paper's tables\": what to download where)" >&2; exit 2; }
done
mkdir -p "$WORK"
LOG=$WORK/reproduce.log
run() { echo "$(date '+%F %T') $*" | tee -a "$LOG"; "$@"; }
skip() { echo "$(date '+%F %T') skipped ($1 exists)" | tee -a "$LOG"; }
complete() { [ -f "$1/dataset.json" ] && grep -q '"complete": true' "$1/dataset.json"; }
MAX_ITER=$(sed -n 's/^max_iter: *//p' "$HERE/prototxt/lifting_h36m_full_solver.prototxt")

# 1. datasets (h36m-prepare itself resumes a half-written one)
complete "$WORK/train" && skip "$WORK/train" || run "$L" h36m-prepare "$ROOT" --cameras "$CAMERAS" --out "$WORK/train"
complete "$WORK/test" && skip "$WORK/test" || \
  run "$L" h36m-prepare "$ROOT" --cameras "$CAMERAS" --subjects S9,S11 --out "$WORK/test"
# 2. the single-PPCA model of Table 1's first row (K=3 is the shipped default model)
[ -f "$WORK/k1_model.h5" ] && skip "$WORK/k1_model.h5" || \
  run "$L" fit --h36m-cdf "$ROOT" --subjects S1,S5,S6,S7,S8 -J 24 -K 1 -o "$WORK/k1_model.h5" \
    --checkpoint "$WORK/k1_model.checkpoint.npz"
# 3. initial weights from CPM (new layers random, as the paper)
for net in lifting cpm; do
  out=$WORK/${net}_init.caffemodel
  [ -f "$out" ] && skip "$out" || run "$L" convert-cpm --cpm-prototxt "$CPM_PROTOTXT" --cpm-weights "$CPM" \
    --joint-order "${CPM_ORDER:-mpi}" --target "$HERE/prototxt/${net}_h36m_full_train.prototxt" -o "$out"
done
# 4. training, the shipped solver as it is (172,980 iterations); resumed from the last snapshot
for net in lifting cpm; do
  dir=$WORK/train_$net
  final=$dir/snap_iter_$MAX_ITER.caffemodel
  if [ -f "$final" ]; then skip "$final"; continue; fi
  last=$(ls -v "$dir"/snap_iter_*.solverstate 2>/dev/null | tail -n 1 || true)
  if [ -n "$last" ]; then
    run "$L" train --data "$WORK/train" --net $net --out "$dir" --resume "$last" "${GPU[@]}"
  else
    run "$L" train --data "$WORK/train" --net $net --out "$dir" --weights "$WORK/${net}_init.caffemodel" "${GPU[@]}"
  fi
done
# 5. evaluation on S9, S11 (each resumes after its last written chunk)
evaluate() {  # OUT LABEL ARGS...
  local out=$1 label=$2; shift 2
  [ -f "$out/results.md" ] && skip "$out/results.md" || \
    run "$L" evaluate-images --data "$WORK/test" --out "$out" --label "$label" "$@"
}
evaluate "$WORK/eval_lifting_k3" "ours, extended net, K=3" --weights "$WORK/train_lifting/snap_iter_$MAX_ITER.caffemodel" "${GPU[@]}"
evaluate "$WORK/eval_lifting_k1" "ours, extended net, K=1" --weights "$WORK/train_lifting/snap_iter_$MAX_ITER.caffemodel" \
  --model "$WORK/k1_model.h5" "${GPU[@]}"
evaluate "$WORK/eval_cpm" "baseline CPM + lift, K=3" --net cpm --weights "$WORK/train_cpm/snap_iter_$MAX_ITER.caffemodel" "${GPU[@]}"
evaluate "$WORK/eval_gt_k3" "true 2D + lift, K=3" --2d gt
evaluate "$WORK/eval_gt_k1" "true 2D + lift, K=1" --2d gt --model "$WORK/k1_model.h5"
# 6. the tables beside the paper's
run "$L" paper-tables --out "$WORK/paper_tables" \
  --run "ours, extended net, K=3=$WORK/eval_lifting_k3" --run "ours, extended net, K=1=$WORK/eval_lifting_k1" \
  --run "baseline CPM + lift, K=3=$WORK/eval_cpm" --run "true 2D + lift, K=3=$WORK/eval_gt_k3" \
  --run "true 2D + lift, K=1=$WORK/eval_gt_k1"
echo "-> $WORK/paper_tables.md, .csv, .json, .png; log: $LOG"
