#!/usr/bin/env bash
# Re-makes the shipped model and every accuracy table in README (about 4 minutes on 2 cores):
#   the default model (J=24, K=3) and a K=1 model, fitted on S1,S5-S8 of ../shared/data;
#   S9 and CMU tables with exact and noisy (20 mm) 2D input, against the authors' released model.
set -euo pipefail
cd "$(dirname "$0")/.."
# The outputs are the committed files this script made before: --force lets it replace them (by default no
# subcommand replaces an existing file).
DATA=../shared/data
L=.venv/bin/lifting
$L fit --h36m-npz $DATA/h36m_poses_17j_5fps.npz --subjects S1,S5,S6,S7,S8 -J 24 -K 3 \
  -o lifting/data/default_model.h5 --report results/default_model.report.json --figure results/default_model.png --force
$L fit --h36m-npz $DATA/h36m_poses_17j_5fps.npz --subjects S1,S5,S6,S7,S8 -J 24 -K 1 -o results/k1_model.h5 --force
MODELS=(--model "ours K=3 (default)=default" --model "ours K=1=results/k1_model.h5"
        --model "authors (K=3, J=25)=authors:$DATA/prob_model_params.mat")
$L evaluate "${MODELS[@]}" --h36m-npz $DATA/h36m_poses_17j_5fps.npz --cmu $DATA/cmu/02 $DATA/cmu/03 -o results/eval_exact --force
$L evaluate "${MODELS[@]}" --h36m-npz $DATA/h36m_poses_17j_5fps.npz --cmu $DATA/cmu/02 $DATA/cmu/03 --noise-mm 20 \
  -o results/eval_noise20mm --force
# The previous default 2D noise level (the model's own residual variance), exact 2D: the README's trade-off figure.
$L evaluate "${MODELS[@]}" --h36m-npz $DATA/h36m_poses_17j_5fps.npz --noise-2d model -o results/eval_exact_noise2d_model \
  --force
# Real cameras: S9 seen by its four Human3.6M cameras (pinhole, tilted), 2D noise 0 / 20 / 60 mm at the subject.
for mm in 0 20 60; do
  $L evaluate "${MODELS[@]}" --h36m-npz $DATA/h36m_poses_17j_5fps.npz --cameras $DATA/h36m_fixture/cameras.json \
    --noise-mm $mm -o results/eval_cameras_noise${mm}mm --force
done
# The embedded 2D detector on the four real fixture frames (a sanity check): results/detector_fixture.{md,json,png}.
.venv/bin/python scripts/compare_detector.py --fixture $DATA/h36m_fixture --out results/detector_fixture >/dev/null
# The paper's image evaluation (issue 11) on the 4 fixture frames with the true 2D (a check, not an accuracy figure).
T=$(mktemp -d)
$L h36m-fixture $DATA/h36m_fixture --out $T/split >/dev/null
$L evaluate-images --data $T/split --out $T/eval --2d gt >/dev/null 2>&1
$L paper-tables --run "true 2D + lift (K=3)=$T/eval" --out results/paper_eval_fixture_gt --force \
  --title "evaluate-images --2d gt on the 4 fixture frames (four frames: a check, not an accuracy figure)" >/dev/null
rm -rf "$T"
