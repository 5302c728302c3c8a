#!/usr/bin/env bash
# One task of a Slurm array job: runs this task's shard of a sweep and writes it as a part.
#   scripts/sweep-array.sh OUTDIR SWEEP-ARGS...
# e.g. in an sbatch file with "#SBATCH --array=1-64" (examples/sweep-array.sbatch):
#   srun scripts/sweep-array.sh parts --config study.toml --vary serving.adapters=1,2,4,8,16 \
#        --vary cxl.memory_bandwidth_bytes_per_s=log:1e11:2e12:200
# Task k of the array (SLURM_ARRAY_TASK_ID, counted from SLURM_ARRAY_TASK_MIN in steps of
# SLURM_ARRAY_TASK_STEP) writes OUTDIR/part-k-of-n.csv (or .jsonl with --format jsonl), n
# being SLURM_ARRAY_TASK_COUNT. When every task is done:
#   lorasplit merge OUTDIR/part-*-of-n.csv -o sweep.csv
# which refuses a missing, repeated, truncated or foreign part.
# LORASPLIT names the program (default: lorasplit on PATH). The arguments go to it as an
# argument vector, never through a shell.
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: sweep-array.sh OUTDIR SWEEP-ARGS..." >&2
  exit 2
fi
outdir=$1
shift
for v in SLURM_ARRAY_TASK_ID SLURM_ARRAY_TASK_COUNT SLURM_ARRAY_TASK_MIN; do
  if [ -z "${!v:-}" ]; then
    echo "sweep-array.sh: $v is not set: run it as a task of a Slurm array job (sbatch --array=...)" >&2
    exit 2
  fi
done
number='^[0-9]{1,9}$'
for v in SLURM_ARRAY_TASK_ID SLURM_ARRAY_TASK_COUNT SLURM_ARRAY_TASK_MIN SLURM_ARRAY_TASK_STEP; do
  [[ ${!v:-1} =~ $number ]] || { echo "sweep-array.sh: $v = '${!v}' is not a whole number" >&2; exit 2; }
done
# Base 10 even with leading zeros (bash reads 010 as octal).
id=$((10#$SLURM_ARRAY_TASK_ID))
count=$((10#$SLURM_ARRAY_TASK_COUNT))
min=$((10#$SLURM_ARRAY_TASK_MIN))
step=$((10#${SLURM_ARRAY_TASK_STEP:-1}))
if [ "$count" -eq 0 ] || [ "$step" -eq 0 ] || [ "$id" -lt "$min" ] || [ $(((id - min) % step)) -ne 0 ]; then
  echo "sweep-array.sh: task $id is not min $min + a multiple of step $step" >&2
  exit 2
fi
index=$(((id - min) / step + 1))
if [ "$index" -gt "$count" ]; then
  echo "sweep-array.sh: task $id is number $index of an array of $count" >&2
  exit 2
fi
ext=csv
prev=
for a in "$@"; do
  if [ "$prev" = "--format" ] && [ "$a" = jsonl ] || [ "$a" = "--format=jsonl" ]; then ext=jsonl; fi
  prev=$a
done
mkdir -p -- "$outdir"
exec "${LORASPLIT:-lorasplit}" sweep "$@" --shard "$index/$count" --part "$outdir/part-$index-of-$count.$ext"
