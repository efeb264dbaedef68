#!/usr/bin/env bash
# docs/scale.md's measurement: the reference U-Net DDPM on Fashion-MNIST as 1 process × 2 threads (batch 2B), 2 MPI
# ranks × 1 thread (batch B each: the same global batch) and 1 process × 1 thread (batch B), alternated REPS times.
# usage: bench/mpi-scaling.sh OUT [STEPS] [B] [REPS]   (build first; needs mpiexec.mpich: apt-get install mpich)
# prints the machine, then TSV rows: layout, rep, steady steps/s (after the first 10 steps), images/s, allreduce s/step
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dll=$root/src/Langevin.Cli/bin/Release/net10.0/Langevin.Cli.dll
out=$1; steps=${2:-40}; b=${3:-64}; reps=${4:-2}
mkdir -p "$out"
echo "# $(lscpu | sed -n 's/^Model name: *//p'); $(nproc) cores; flags: $(grep -o -w -E 'avx512f|avx512_bf16|amx_bf16|amx_tile' /proc/cpuinfo | sort -u | tr '\n' ' ')"
echo "# mpich $(dpkg-query -W -f='${Version}' mpich 2>/dev/null || echo '?'); load before: $(cut -d' ' -f1-3 /proc/loadavg)"
recipe=(train --data fashion-mnist --method ddpm --steps "$steps" --lr 2e-4 --grad-clip 0 --ema 0.999 --channels 32 --mults 1,2,2
        --res-blocks 2 --attn 7 --dropout 0 --seed 0 --log-every 10 --checkpoint-every 100000 --sample-every 0 --quiet)
steady() {   # run folder, global batch → steps/s and images/s between step 10 and the last logged step
  awk -v b="$2" -F'[,:]' '{for(i=1;i<=NF;i++){if($i~/"step"/)s=$(i+1); if($i~/"elapsed_s"/)e=$(i+1)}; if(s==10){s0=s;e0=e} last_s=s; last_e=e}
       END{r=(last_s-s0)/(last_e-e0); printf "%.3f\t%.1f", r, r*b}' "$1/log.jsonl"
}
printf "layout\trep\tsteps_per_s\timages_per_s\tallreduce_s_per_step\n"
for rep in $(seq 1 "$reps"); do
  run=$out/p1t2-$rep; rm -rf "$run"
  CI=true dotnet "$dll" "${recipe[@]}" --batch $((2 * b)) --threads 2 --out "$run" > "$run.log" 2>&1
  printf "1 process x 2 threads, batch %d\t%d\t%s\t-\n" $((2 * b)) "$rep" "$(steady "$run" $((2 * b)))"
  run=$out/r2t1-$rep; rm -rf "$run"
  CI=true mpiexec.mpich -n 2 dotnet "$dll" "${recipe[@]}" --batch "$b" --threads 1 --out "$run" --json "$run.json" > "$run.log" 2>&1
  ar=$(python3 -c "import json,sys; d=json.load(open('$run.json')); print(round(d['allreduce_seconds']/$steps,4))")
  printf "2 ranks x 1 thread, batch %d each\t%d\t%s\t%s\n" "$b" "$rep" "$(steady "$run" $((2 * b)))" "$ar"
  run=$out/p1t1-$rep; rm -rf "$run"
  CI=true dotnet "$dll" "${recipe[@]}" --batch "$b" --threads 1 --out "$run" > "$run.log" 2>&1
  printf "1 process x 1 thread, batch %d\t%d\t%s\t-\n" "$b" "$rep" "$(steady "$run" "$b")"
done
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"
