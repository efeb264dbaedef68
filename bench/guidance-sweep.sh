#!/usr/bin/env bash
# The guidance trade-off one row at a time (each row's sample + eval stands alone, so a stopped sweep keeps its rows):
# bench/guidance-sweep.sh RUN CLASSIFIER_RUN OUT_DIR [N] [STEPS]
# (`langevin guidance` does the same in one process, with a table, JSON and a plot at the end.)
set -euo pipefail
run=$1; cls=$2; out=$3; n=${4:-200}; steps=${5:-20}
L=${LANGEVIN:-"dotnet src/Langevin.Cli/bin/Release/net10.0/Langevin.Cli.dll"}
mkdir -p "$out"
row() {  # name, then the guidance flags
  local name=$1; shift
  $L sample --run "$run" --class all --n "$n" --sampler ddim --steps "$steps" --seed 0 --quiet --threads 2 "$@" \
    --out "$out/$name.npy" --grid "$out/$name.png" --json "$out/$name.sample.json" > "$out/$name.sample.log"
  $L eval --samples "$out/$name.npy" --labels "$out/$name.labels.npy" --ref fashion-mnist:test --metrics fd,pr --quiet --threads 2 \
    --json "$out/$name.eval.json" > "$out/$name.eval.log"
  python3 - "$out/$name" "$name" <<'PY'
import json, sys
p, name = sys.argv[1], sys.argv[2]
s = json.load(open(p + ".sample.json")); e = json.load(open(p + ".eval.json")); m = e["metrics"]
print(f"| {name} | {s.get('nfe')} | {s.get('classifier_evaluations', 0)} | {e['class_acc']:.3f} | {m['fd']['samples']:.1f} | {m['precision']['samples']:.3f} | {m['recall']['samples']:.3f} |")
PY
}
echo "| row | NFE | classifier f+b | class acc | FD | precision | recall |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for w in ${CFG:-0 1 2 4}; do row "cfg-$w" --cfg "$w"; done
for s in ${SCALES:-0 1 2 4 8}; do row "cls-$s" --unconditional --classifier "$cls" --guidance "$s"; done
