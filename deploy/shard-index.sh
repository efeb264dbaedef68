#!/usr/bin/env bash
# shard-index.sh — prints this task's shard as "I/N" (I 0-based, I < N) for `langevin sample --shard I/N`.
#
# Where it reads the shard, first match wins:
#   LANGEVIN_SHARD=I/N                      given by hand
#   SLURM_ARRAY_TASK_ID                     a Slurm job array (sbatch --array=0-(N-1)); N is SLURM_ARRAY_TASK_COUNT, or
#                                           MAX - MIN + 1 from SLURM_ARRAY_TASK_MIN/MAX; I is ID - MIN (MIN defaults to 0),
#                                           divided by SLURM_ARRAY_TASK_STEP when the array has a step (--array=0-6:2)
#   JOB_COMPLETION_INDEX                    a Kubernetes Indexed Job; N is LANGEVIN_SHARDS (set it to the Job's completions)
#
# Refuses with one line on stderr and exit 2 when none is set, when a value is not a non-negative integer, when N < 1,
# when I >= N, or when a Slurm array is not one contiguous range (--array=0,2,5).
set -euo pipefail

fail() { printf 'shard-index.sh: %s\n' "$1" >&2; exit 2; }

# nonneg NAME VALUE: VALUE must be a non-negative decimal integer (no sign, no spaces; leading zeros are read as decimal)
nonneg() {
  [[ "$2" =~ ^[0-9]+$ ]] || fail "$1 must be a non-negative integer (got '$2')"
  (( ${#2} <= 9 )) || fail "$1 is too large (got '$2')"
}

if [[ -n "${LANGEVIN_SHARD:-}" ]]; then
  [[ "$LANGEVIN_SHARD" == */* ]] || fail "LANGEVIN_SHARD must be I/N (got '$LANGEVIN_SHARD')"
  i=${LANGEVIN_SHARD%%/*}; n=${LANGEVIN_SHARD#*/}
  nonneg "LANGEVIN_SHARD's I" "$i"; nonneg "LANGEVIN_SHARD's N" "$n"
  from=LANGEVIN_SHARD
elif [[ -n "${SLURM_ARRAY_TASK_ID:-}" ]]; then
  id=$SLURM_ARRAY_TASK_ID; nonneg SLURM_ARRAY_TASK_ID "$id"
  min=${SLURM_ARRAY_TASK_MIN:-0}; nonneg SLURM_ARRAY_TASK_MIN "$min"
  step=${SLURM_ARRAY_TASK_STEP:-1}; nonneg SLURM_ARRAY_TASK_STEP "$step"
  (( 10#$step >= 1 )) || fail "SLURM_ARRAY_TASK_STEP must be >= 1 (got '$step')"
  (( 10#$id >= 10#$min )) || fail "SLURM_ARRAY_TASK_ID $id is below SLURM_ARRAY_TASK_MIN $min"
  (( (10#$id - 10#$min) % 10#$step == 0 )) || fail "SLURM_ARRAY_TASK_ID $id is not on the array's step $step from $min"
  i=$(( (10#$id - 10#$min) / 10#$step ))
  span=""
  if [[ -n "${SLURM_ARRAY_TASK_MAX:-}" ]]; then
    nonneg SLURM_ARRAY_TASK_MAX "$SLURM_ARRAY_TASK_MAX"
    (( 10#$SLURM_ARRAY_TASK_MAX >= 10#$min )) || fail "SLURM_ARRAY_TASK_MAX $SLURM_ARRAY_TASK_MAX is below SLURM_ARRAY_TASK_MIN $min"
    span=$(( (10#$SLURM_ARRAY_TASK_MAX - 10#$min) / 10#$step + 1 ))
  fi
  if [[ -n "${SLURM_ARRAY_TASK_COUNT:-}" ]]; then
    n=$SLURM_ARRAY_TASK_COUNT; nonneg SLURM_ARRAY_TASK_COUNT "$n"
    [[ -z "$span" || "$span" == "$((10#$n))" ]] \
      || fail "the Slurm array is not one contiguous range (SLURM_ARRAY_TASK_COUNT $n, MIN $min, MAX $SLURM_ARRAY_TASK_MAX): use --array=0-(N-1)"
  elif [[ -n "$span" ]]; then
    n=$span
  else
    fail "SLURM_ARRAY_TASK_ID is set but neither SLURM_ARRAY_TASK_COUNT nor SLURM_ARRAY_TASK_MAX is"
  fi
  from="the Slurm array"
elif [[ -n "${JOB_COMPLETION_INDEX:-}" ]]; then
  i=$JOB_COMPLETION_INDEX; nonneg JOB_COMPLETION_INDEX "$i"
  [[ -n "${LANGEVIN_SHARDS:-}" ]] || fail "JOB_COMPLETION_INDEX is set but LANGEVIN_SHARDS (the Job's completions) is not"
  n=$LANGEVIN_SHARDS; nonneg LANGEVIN_SHARDS "$n"
  from="JOB_COMPLETION_INDEX/LANGEVIN_SHARDS"
else
  fail "no shard: set LANGEVIN_SHARD=I/N, or run as a Slurm array task (SLURM_ARRAY_TASK_ID) or a Kubernetes Indexed Job pod (JOB_COMPLETION_INDEX with LANGEVIN_SHARDS)"
fi

i=$((10#$i)); n=$((10#$n))
(( n >= 1 )) || fail "the shard count must be >= 1 (got $n from $from)"
(( i < n )) || fail "shard index $i is not below the shard count $n (from $from)"
printf '%d/%d\n' "$i" "$n"
