#!/usr/bin/env bash
# array_parts.sh CLI SCRIPT SERVING_CONFIG: the Slurm array recipe (scripts/sweep-array.sh
# run once per task with SLURM_ARRAY_TASK_* set, as Slurm would), then `lorasplit merge`:
# equal to the unsharded sweep, byte for byte; a missing, repeated, truncated, edited or
# foreign part is refused (exit 2, one line naming the part) and no output is written.
set -uo pipefail
cli=$1 script=$2 cfg=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
export LORASPLIT=$cli

# run_array DIR COUNT MIN STEP SWEEP-ARGS...: every task of the array, one after the other.
run_array() {
  local dir=$1 count=$2 min=$3 step=$4
  shift 4
  local k
  for ((k = 0; k < count; k++)); do
    SLURM_ARRAY_TASK_ID=$((min + k * step)) SLURM_ARRAY_TASK_COUNT=$count SLURM_ARRAY_TASK_MIN=$min \
      SLURM_ARRAY_TASK_STEP=$step bash "$script" "$dir" "$@" || fail "task $k of $dir"
  done
}
# check NAME COUNT MIN STEP EXT SWEEP-ARGS...: the merged parts equal the whole sweep.
check() {
  local name=$1 count=$2 min=$3 step=$4 ext=$5
  shift 5
  "$cli" sweep "$@" >"$work/$name.whole" || fail "$name: the unsharded sweep"
  run_array "$work/$name" "$count" "$min" "$step" "$@"
  [ "$(ls "$work/$name" | wc -l)" -eq "$count" ] || fail "$name: $(ls "$work/$name")"
  "$cli" merge "$work/$name"/part-*-of-"$count.$ext" -o "$work/$name.merged" || fail "$name: merge"
  cmp -s "$work/$name.whole" "$work/$name.merged" || { diff "$work/$name.whole" "$work/$name.merged" | head; fail "$name: merged parts differ"; }
  "$cli" merge "$work/$name"/part-*-of-"$count.$ext" >"$work/$name.stdout" || fail "$name: merge to stdout"
  cmp -s "$work/$name.whole" "$work/$name.stdout" || fail "$name: merge to standard output differs"
  echo "ok: $name: $count parts merge to the sweep ($(wc -l <"$work/$name.whole") lines)"
}

check seed 4 1 1 csv --vary "link.bandwidth_bytes_per_s=log:1GiB/s:1TiB/s:9" --vary "lora.r=2,4,8"
check seed_jsonl 3 0 2 jsonl --vary "link.latency_s=lin:0:2us:7" --format jsonl
# More tasks than points: some parts are empty.
check seed_empty_parts 5 0 1 csv --vary "lora.r=4,8"
check serving 3 1 1 csv --config "$cfg" --threads 2 --vary serving.adapters=1,2 \
  --vary "link.bandwidth_bytes_per_s=16GB/s,64GB/s"

# refused MESSAGE PARTS...: exit 2, one line, the message; -o leaves no file.
refused() {
  local want=$1
  shift
  "$cli" merge "$@" -o "$work/out.csv" 2>"$work/err"
  local rc=$?
  [ $rc -eq 2 ] || fail "merge $* exited $rc: $(cat "$work/err")"
  [ "$(wc -l <"$work/err")" -eq 1 ] || fail "not one line: $(cat "$work/err")"
  grep -q -- "$want" "$work/err" || fail "expected '$want', got: $(cat "$work/err")"
  [ ! -e "$work/out.csv" ] || fail "a refused merge wrote its output"
  echo "ok: refused: $(cat "$work/err")"
}
p=$work/seed
refused "shard 3/4 is missing" "$p/part-1-of-4.csv" "$p/part-2-of-4.csv" "$p/part-4-of-4.csv"
cp "$p/part-2-of-4.csv" "$work/copy.csv"
refused "shard 2/4 is given twice" "$p"/part-*-of-4.csv "$work/copy.csv"
head -n -1 "$p/part-3-of-4.csv" >"$work/no_end.csv"
refused "truncated: no '# end' line" "$p/part-1-of-4.csv" "$p/part-2-of-4.csv" "$work/no_end.csv" "$p/part-4-of-4.csv"
head -c -7 "$p/part-3-of-4.csv" >"$work/cut.csv"
refused "truncated: line [0-9]* does not end" "$p/part-1-of-4.csv" "$p/part-2-of-4.csv" "$work/cut.csv" "$p/part-4-of-4.csv"
# A row lost with the count edited to match: the shard's range says how many there are.
awk 'NR == 30 { next } /^# end: / { print "# end: 6 rows"; next } { print }' "$p/part-3-of-4.csv" >"$work/lost.csv"
refused "truncated: 6 rows of the 7" "$p/part-1-of-4.csv" "$p/part-2-of-4.csv" "$work/lost.csv" "$p/part-4-of-4.csv"
sed 's/^# param gpu.flops = .*/# param gpu.flops = 1e15/' "$p/part-3-of-4.csv" >"$work/edited.csv"
refused "sweep id does not match" "$p/part-1-of-4.csv" "$p/part-2-of-4.csv" "$work/edited.csv" "$p/part-4-of-4.csv"
# Another sweep: the same grid on other hardware.
SLURM_ARRAY_TASK_ID=3 SLURM_ARRAY_TASK_COUNT=4 SLURM_ARRAY_TASK_MIN=1 bash "$script" "$work/other" --set gpu.flops=1e15 \
  --vary "link.bandwidth_bytes_per_s=log:1GiB/s:1TiB/s:9" --vary "lora.r=2,4,8" || fail "other sweep"
refused "from another sweep" "$p/part-1-of-4.csv" "$p/part-2-of-4.csv" "$work/other/part-3-of-4.csv" "$p/part-4-of-4.csv"
refused "from another sweep" "$p/part-1-of-4.csv" "$work/serving/part-2-of-3.csv"
refused "not a lorasplit sweep part" "$work/seed.whole"
# Under the serving model a part records what the files read at every point hold and which
# values the user wrote: a profile on a hardware axis edited between two tasks, or a value
# written with --set that stays over a part where the other task took the part's, is
# another sweep.
parts_cfg=$(dirname "$cfg")/../tests/data/serving_parts.toml
cp "$(dirname "$cfg")/../tests/data/tiny_cxl_profile.toml" "$work/dev.toml"
printf '[cxl]\nmemory_bytes = "600 GB"\nmemory_bandwidth_bytes_per_s = "1.1 TB/s"\nflops = "4 TFLOPS"\n' >"$work/dev.toml"
axis=(--config "$parts_cfg" --vary "hardware.cxl=cxl-pnm-512gb,$work/dev.toml")
SLURM_ARRAY_TASK_ID=1 SLURM_ARRAY_TASK_COUNT=2 SLURM_ARRAY_TASK_MIN=1 bash "$script" "$work/prof" "${axis[@]}" || fail "profile 1/2"
printf '[cxl]\nmemory_bytes = "600 GB"\nmemory_bandwidth_bytes_per_s = "2.2 TB/s"\nflops = "4 TFLOPS"\n' >"$work/dev.toml"
SLURM_ARRAY_TASK_ID=2 SLURM_ARRAY_TASK_COUNT=2 SLURM_ARRAY_TASK_MIN=1 bash "$script" "$work/prof" "${axis[@]}" || fail "profile 2/2"
refused "from another sweep .*axis hardware.cxl" "$work/prof"/part-*-of-2.csv
axis=(--config "$parts_cfg" --vary "hardware.link=pcie4-x16,cxl2-x16")
SLURM_ARRAY_TASK_ID=1 SLURM_ARRAY_TASK_COUNT=2 SLURM_ARRAY_TASK_MIN=1 bash "$script" "$work/wr" "${axis[@]}" || fail "written 1/2"
# The same base value (cxl2-x16's 250 ns), written: it stays over pcie4-x16's 1 us.
SLURM_ARRAY_TASK_ID=2 SLURM_ARRAY_TASK_COUNT=2 SLURM_ARRAY_TASK_MIN=1 bash "$script" "$work/wr" "${axis[@]}" \
  --set "link.latency_s=250ns" || fail "written 2/2"
refused "from another sweep .*link.latency_s = 2.5e-7 (written)" "$work/wr"/part-*-of-2.csv
refused "cannot open the file" "$work/nowhere.csv"

# The array script refuses to run outside an array job, and tasks beyond its count.
bash "$script" "$work/x" --vary lora.r=4 2>"$work/err" && fail "ran without SLURM_ARRAY_TASK_ID"
grep -q "SLURM_ARRAY_TASK_ID is not set" "$work/err" || fail "$(cat "$work/err")"
SLURM_ARRAY_TASK_ID=5 SLURM_ARRAY_TASK_COUNT=4 SLURM_ARRAY_TASK_MIN=1 bash "$script" "$work/x" --vary lora.r=4 \
  2>"$work/err" && fail "ran task 5 of 4"
grep -q "number 5 of an array of 4" "$work/err" || fail "$(cat "$work/err")"
SLURM_ARRAY_TASK_ID=4 SLURM_ARRAY_TASK_COUNT=4 bash "$script" "$work/x" --vary lora.r=4 2>"$work/err" \
  && fail "ran without SLURM_ARRAY_TASK_MIN"
grep -q "SLURM_ARRAY_TASK_MIN is not set" "$work/err" || fail "$(cat "$work/err")"
# Leading zeros are decimal, not octal: task 010 of 001-012 is number 10.
SLURM_ARRAY_TASK_ID=010 SLURM_ARRAY_TASK_COUNT=12 SLURM_ARRAY_TASK_MIN=001 bash "$script" "$work/z" \
  --vary "lora.r=1,2,3,4,5,6,7,8,9,10,11,12" || fail "task 010"
[ -e "$work/z/part-10-of-12.csv" ] || fail "task 010 wrote $(ls "$work/z")"
echo "ok: the array script checks its task"
