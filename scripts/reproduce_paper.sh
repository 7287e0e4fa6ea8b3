#!/usr/bin/env bash
# The paper's Human3.6M experiments end to end: a thin wrapper of `lifting reproduce` (README, "Reproducing the
# paper's tables"; `lifting reproduce --help` lists every size option).
#   scripts/reproduce_paper.sh --miniature                     the toy run of the whole chain (minutes, CPU, no download)
#   scripts/reproduce_paper.sh H36M_ROOT CPM_CAFFEMODEL [--gpu 0,1] [--iterations N | --fraction F] [--snapshot N]
#       [--train-subjects S1,S5 --test-subjects S9,S11 --step 5 --work runs/paper ...]
# H36M_ROOT: the official release (S1, S5, ... with MyPoseFeatures/ and Videos/) and cameras.h5 (Martinez et al.);
# CPM_CAFFEMODEL: pose_iter_985000_addLEEDS.caffemodel with pose_deploy_centerMap.prototxt beside it (or --cpm-prototxt).
# Every step is printed before it runs and skipped when its output exists: run the same command again to resume.
set -euo pipefail
HERE=$(cd "$(dirname "$0")/.." && pwd)
if [ $# -eq 0 ]; then
  echo "usage: $0 --miniature | H36M_ROOT CPM_CAFFEMODEL [--gpu N[,M...]] [lifting reproduce options]" >&2
  exit 2
fi
exec "${LIFTING:-$HERE/.venv/bin/lifting}" reproduce "$@"
