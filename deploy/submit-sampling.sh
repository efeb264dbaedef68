#!/usr/bin/env bash
# submit-sampling.sh — sharded sampling on Slurm in one command: a job array of SHARDS tasks
# (slurm-sample-array.sbatch, one shard each), then the merge and evaluation (slurm-merge.sbatch), which starts only
# once every task of the array has succeeded (--dependency=afterok).
#   RUN=runs/fmnist OUT=samples/fmnist N=10000 BATCH=100 SHARDS=8 deploy/submit-sampling.sh
# Prints the two job ids. Partition, account and time limits: sbatch's own SBATCH_PARTITION, SBATCH_ACCOUNT,
# SBATCH_TIMELIMIT environment variables, or edit the #SBATCH lines of the two job files.
#
# Settings, from the environment; the job files read theirs from it too (RUN, OUT, N, BATCH, SEED, SAMPLE_ARGS, REF,
# METRICS, LANGEVIN: see their tops), and sbatch --export=ALL hands them on:
#   SHARDS       array tasks, i.e. shards                                         default 4
#   ARRAY_LIMIT  if set, at most this many array tasks run at once (--array=0-(SHARDS-1)%ARRAY_LIMIT)
#   DEPLOY       the folder of the job files and shard-index.sh                   default: this script's folder
#   SBATCH       the sbatch command, word-split                                   default sbatch
#   DRY_RUN=1    print the two sbatch command lines, one line each, and submit nothing (the merge's dependency then
#                reads afterok:ARRAY_JOB_ID, the id the first would print)
set -euo pipefail

SHARDS=${SHARDS:-4}
ARRAY_LIMIT=${ARRAY_LIMIT:-}
DEPLOY=${DEPLOY:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}
SBATCH=${SBATCH:-sbatch}
DRY_RUN=${DRY_RUN:-0}

fail() { printf 'submit-sampling.sh: %s\n' "$1" >&2; exit 2; }
show() { local line; printf -v line '%q ' "$@"; printf '%s\n' "${line% }"; }

[[ "$SHARDS" =~ ^[0-9]+$ ]] && (( SHARDS >= 1 )) || fail "SHARDS must be a positive integer (got '$SHARDS')"
[[ -z "$ARRAY_LIMIT" || "$ARRAY_LIMIT" =~ ^[1-9][0-9]*$ ]] || fail "ARRAY_LIMIT must be a positive integer (got '$ARRAY_LIMIT')"
for f in slurm-sample-array.sbatch slurm-merge.sbatch shard-index.sh; do
  [[ -f "$DEPLOY/$f" ]] || fail "$DEPLOY/$f not found: set DEPLOY to the folder of the job files"
done

# The job files run from Slurm's spool folder: DEPLOY tells them where shard-index.sh is; SHARDS makes the array task
# check its count and the merge list its shards.
export DEPLOY SHARDS
read -r -a sbatch <<< "$SBATCH"
array=(--parsable --export=ALL --array="0-$((SHARDS - 1))${ARRAY_LIMIT:+%$ARRAY_LIMIT}" "$DEPLOY/slurm-sample-array.sbatch")
merge=(--parsable --export=ALL "$DEPLOY/slurm-merge.sbatch")

if [[ "$DRY_RUN" == 1 ]]; then
  show "${sbatch[@]}" "${array[@]}"
  show "${sbatch[@]}" --dependency=afterok:ARRAY_JOB_ID "${merge[@]}"
  exit 0
fi

out=$("${sbatch[@]}" "${array[@]}")
array_id=${out%%;*}                     # --parsable prints "JOBID" or "JOBID;CLUSTER"
[[ "$array_id" =~ ^[0-9]+$ ]] || fail "sbatch printed no job id for the array (got '$out')"
out=$("${sbatch[@]}" --dependency="afterok:$array_id" "${merge[@]}")
merge_id=${out%%;*}
[[ "$merge_id" =~ ^[0-9]+$ ]] || fail "sbatch printed no job id for the merge (got '$out'); the array $array_id is queued"
echo "sampling: job array $array_id, shards 0-$((SHARDS - 1)) of $SHARDS"
echo "merge and eval: job $merge_id, after every shard succeeds"
