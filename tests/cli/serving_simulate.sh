#!/usr/bin/env bash
# serving_simulate.sh CLI CONFIG: `simulate --model serving` (docs/model.md §9.4) against
# `solve`: the optimum it certifies, written to a file and read back with --plan, and each
# baseline simulate to the iteration times solve reports, exactly; all layers give L times
# one layer's tasks, in the trace too; a plan file that is wrong in any way is refused
# (exit 2) with a message naming the entry.
set -euo pipefail
cli=$1
config=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
sets=(--config "$config" --set serving.adapters=6 --set serving.batch_tokens=48)
"$cli" solve "${sets[@]}" --format json > "$dir/solve.json"
"$cli" simulate "${sets[@]}" --plan "$dir/solve.json" --format json > "$dir/from_file.json"
"$cli" simulate "${sets[@]}" --format json --layers all --trace "$dir/t.json" --gantt "$dir/g.svg" > "$dir/all.json"
for b in gpu_fetch gpu_hbm device_all; do
  "$cli" simulate "${sets[@]}" --plan $b --format json > "$dir/$b.json"
done
/usr/bin/python3 - "$dir" <<'PY'
import json, sys
d = sys.argv[1]
solve = json.load(open(f"{d}/solve.json"))
sim = json.load(open(f"{d}/from_file.json"))
assert sim["equal"] is True, sim["stages"]
assert sim["simulated_iteration_time_s_exact"] == solve["iteration_time_s_exact"], (sim["simulated_iteration_time_s_exact"], solve["iteration_time_s_exact"])
for b in ("gpu_fetch", "gpu_hbm", "device_all"):
    s = json.load(open(f"{d}/{b}.json"))
    assert s["equal"] is True and s["plan"] == b
    assert s["simulated_iteration_time_s_exact"] == solve["baselines"][b]["iteration_time_s_exact"], b
every = json.load(open(f"{d}/all.json"))
assert every["layers_simulated"] == every["layers"] == solve["transformer"]["num_hidden_layers"], every["layers"]
one_layer = [t for t in every["tasks"] if t["layer"] == 1]
assert len(every["tasks"]) == every["layers"] * len(one_layer) > 0
assert every["makespan_s_exact"] == every["simulated_iteration_time_s_exact"] == solve["iteration_time_s_exact"]
events = json.load(open(f"{d}/t.json"))["traceEvents"]
tracks = [e["args"]["name"] for e in events if e["ph"] == "M" and e["name"] == "thread_name"]
assert tracks == ["gpu", "cxl", "link.to_gpu", "link.to_device"], tracks
spans = [e for e in events if e["ph"] == "X"]
assert len(spans) == len(every["tasks"]), (len(spans), len(every["tasks"]))
# Broken plan files: each must be refused, naming what is wrong.
plan = solve["plan"]
def write(name, value):
    with open(f"{d}/{name}.json", "w") as f:
        json.dump(value, f)
write("missing", [e for e in plan if (e["adapter"], e["stage"]) != (plan[0]["adapter"], plan[0]["stage"])])
write("unknown", [dict(plan[0], adapter="nobody")] + plan[1:])
write("twice", plan + [plan[0]])
write("tokens", [dict(plan[0], tokens=plan[0]["tokens"] + 1)] + plan[1:])
write("path", [dict(plan[0], path="elsewhere")] + plan[1:])
write("object", {"iteration_time_s": 1})
open(f"{d}/notjson.json", "w").write("{plan: [")
print("simulated plans equal solve's:", len(plan), "plan entries,", len(every["tasks"]), "tasks over", every["layers"], "layers")
PY
xmllint --noout "$dir/g.svg" 2>/dev/null || grep -q '</svg>' "$dir/g.svg"
expect_refused() {
  local name=$1 pattern=$2 rc=0
  "$cli" simulate "${sets[@]}" --plan "$dir/$name.json" > "$dir/out.txt" 2> "$dir/err.txt" || rc=$?
  if [ "$rc" -ne 2 ] || ! grep -Eq "$pattern" "$dir/err.txt"; then
    echo "plan file '$name': exit $rc, expected 2 and /$pattern/:"; cat "$dir/err.txt"; exit 1
  fi
  [ "$(wc -l < "$dir/err.txt")" -eq 1 ] || { echo "plan file '$name': more than one line"; cat "$dir/err.txt"; exit 1; }
}
expect_refused missing "has [0-9]+ tokens and a module in stage [a-z_]+, and no entry there"
expect_refused unknown "entry 0: adapter 'nobody' is not in the workload"
expect_refused twice "given twice"
expect_refused tokens "tokens"
expect_refused path "path 'elsewhere' is not gpu, split or device"
expect_refused object "without \"plan\""
expect_refused notjson "not JSON"
echo "plan files refused as expected"
# A failed run leaves no output behind: a trace written before the Gantt chart failed is
# removed again, and so are both when standard output is full; one line on stderr.
rc=0
"$cli" simulate "${sets[@]}" --trace "$dir/t2.json" --gantt /nonexistent/g.svg > /dev/null 2> "$dir/err.txt" || rc=$?
[ "$rc" -eq 4 ] && [ ! -e "$dir/t2.json" ] || { echo "exit $rc, trace left: $(ls "$dir")"; exit 1; }
if [ -w /dev/full ]; then
  rc=0
  "$cli" simulate "${sets[@]}" --trace "$dir/t3.json" --gantt "$dir/g3.svg" > /dev/full 2> "$dir/err.txt" || rc=$?
  [ "$rc" -eq 4 ] && [ ! -e "$dir/t3.json" ] && [ ! -e "$dir/g3.svg" ] || { echo "/dev/full: exit $rc"; exit 1; }
  [ "$(wc -l < "$dir/err.txt")" -eq 1 ] || { echo "/dev/full: not one line"; cat "$dir/err.txt"; exit 1; }
fi
# A sweep whose workload values do not all make a workload prints nothing.
rc=0
"$cli" sweep "${sets[@]}" --vary "lora.target_modules=q;bogus" > "$dir/sweep.csv" 2> "$dir/err.txt" || rc=$?
[ "$rc" -eq 2 ] && [ ! -s "$dir/sweep.csv" ] && grep -q "point 2 of 2: .*'bogus': not a module" "$dir/err.txt" || {
  echo "sweep over a bad module: exit $rc"; cat "$dir/sweep.csv" "$dir/err.txt"; exit 1; }
# ... and a file that was there before is left as it was (a folder named like the chart
# is refused before anything is written).
echo OLD > "$dir/old.json"
mkdir "$dir/chart.svg"
rc=0
"$cli" simulate "${sets[@]}" --trace "$dir/old.json" --gantt "$dir/chart.svg" > /dev/null 2> "$dir/err.txt" || rc=$?
[ "$rc" -eq 4 ] && [ "$(cat "$dir/old.json")" = OLD ] && grep -q "is a folder" "$dir/err.txt" || {
  echo "an existing trace was not left alone: exit $rc"; cat "$dir/err.txt"; exit 1; }
if [ -w /dev/full ]; then
  rc=0
  "$cli" simulate "${sets[@]}" --trace "$dir/old.json" > /dev/full 2> /dev/null || rc=$?
  [ "$rc" -eq 4 ] && [ "$(cat "$dir/old.json")" = OLD ] && [ -z "$(ls "$dir" | grep partial || true)" ] || {
    echo "/dev/full: the existing trace changed or a staged file stayed: exit $rc"; exit 1; }
fi
echo "failed runs leave nothing behind"
