#!/usr/bin/env bash
# The truncation sweep of docs/methods/tdpm.md: TDPM on a 2-D set for several T_trunc, each sampled with 1 prior call + K DDIM
# steps (trailing spacing on the truncated table), beside a DDPM of the same recipe sampled with DDIM at K steps.
# usage: bench/tdpm2d.sh OUT [DATA] [SEED]   (build first: dotnet build Langevin.sln -c Release)
# prints TSV rows: model, T_trunc, sampler steps, NFE, modes covered, share near a mode, reverse KL, SWD, train seconds
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
L=${LANGEVIN:-$root/src/Langevin.Cli/bin/Release/net10.0/Langevin.Cli}
out=$1; data=${2:-25gaussians}; seed=${3:-0}
mkdir -p "$out"
train() {   # name [train options]
  local run=$out/$1; shift
  rm -rf "$run"
  local start=$(date +%s.%N)
  "$L" train --data "$data" --seed "$seed" --out "$run" --quiet --sample-every 0 --threads 2 "$@" > "$run.train.log" 2>&1
  echo "$(date +%s.%N) - $start" | bc
}
score() {   # run label trunc steps nfe secs [sample options]
  local run=$out/$1 label=$2 trunc=$3 steps=$4 nfe=$5 secs=$6; shift 6
  "$L" sample --run "$run" --n 5000 --seed 1 --out "$run/s-$steps.npy" --quiet "$@" > /dev/null 2>&1
  "$L" eval --samples "$run/s-$steps.npy" --ref "$data" --metrics modes,swd > "$run/eval-$steps.txt" 2>&1
  get() { awk -v m="$1" '$1==m {print $2}' "$run/eval-$steps.txt"; }
  printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%.0f\n" "$label" "$trunc" "$steps" "$nfe" "$(get modes_covered)" "$(get modes_near)" "$(get modes_kl)" "$(get swd)" "$secs"
}
secs=$(train ddpm --method ddpm)
for k in 1000 100 10 4; do score ddpm ddpm 1000 "$k" "$k" "$secs" --sampler ddim --steps "$k"; done
for trunc in 10 50 100 1000; do
  secs=$(train "tdpm-$trunc" --method tdpm --truncation "$trunc")
  for k in 10 4 2; do
    if [ "$k" -le "$trunc" ]; then score "tdpm-$trunc" tdpm "$trunc" "$k" "$((k + 1))" "$secs" --sampler prior-ddim --steps "$k"; fi
  done
  # the whole truncated chain, one step per timestep
  if [ "$trunc" -gt 10 ] && [ "$trunc" -le 100 ]; then
    score "tdpm-$trunc" tdpm "$trunc" "$trunc" "$((trunc + 1))" "$secs" --sampler prior-ddim --steps "$trunc"
  fi
done
