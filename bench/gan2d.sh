#!/usr/bin/env bash
# The GAN mode-coverage table of docs/methods/gan.md: every loss on 8gaussians and 25gaussians over seeds 0-2.
# usage: bench/gan2d.sh OUT [SEEDS]   (build first: dotnet build Langevin.sln -c Release)
# prints TSV rows: data, variant, seed, modes covered, share near a mode, reverse KL of the mode histogram, SWD, train seconds
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
L=${LANGEVIN:-$root/src/Langevin.Cli/bin/Release/net10.0/Langevin.Cli}
out=$1; seeds=${2:-"0 1 2"}
mkdir -p "$out"
one() {   # data variant seed steps [train options]
  local data=$1 name=$2 seed=$3 steps=$4; shift 4
  local run=$out/$data-$name-s$seed
  rm -rf "$run"
  local start=$(date +%s.%N)
  if ! "$L" train --method gan --data "$data" --steps "$steps" --seed "$seed" --out "$run" --quiet --sample-every 0 \
       --checkpoint-every "$steps" --threads 2 "$@" > "$run.train.log" 2>&1; then
    printf "%s\t%s\t%s\tFAILED\t%s\n" "$data" "$name" "$seed" "$(tail -1 "$run.train.log")"; return
  fi
  local secs=$(echo "$(date +%s.%N) - $start" | bc)
  "$L" sample --run "$run" --n 5000 --seed 1 --out "$run/samples.npy" --quiet > /dev/null 2>&1
  "$L" eval --samples "$run/samples.npy" --ref "$data" --metrics modes,swd > "$run/eval.txt" 2>&1
  get() { awk -v m="$1" '$1==m {print $2}' "$run/eval.txt"; }
  printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%.0f\n" "$data" "$name" "$seed" "$(get modes_covered)" "$(get modes_near)" "$(get modes_kl)" "$(get swd)" "$secs"
}
for data_steps in "8gaussians 3000" "25gaussians 4000"; do
  set -- $data_steps; data=$1; steps=$2
  for seed in $seeds; do
    one "$data" unregularised "$seed" "$steps" --r1-gamma 0
    one "$data" ns-r1 "$seed" "$steps"
    one "$data" hinge-sn "$seed" "$steps" --gan-loss hinge
    one "$data" wgan-gp "$seed" "$steps" --gan-loss wgan-gp
  done
done
