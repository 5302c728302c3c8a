#!/usr/bin/env bash
# The serving model (docs/model.md §9) against an independent reference written from the
# documentation alone (tests/serving/reference.py: exact fractions, brute force over every
# plan, its own event simulation): random tiny instances, the optimum's and the three
# baselines' exact iteration times and statuses must agree.
# Usage: serving_reference.sh LORASPLIT SEED COUNT
set -euo pipefail
cli=$1 seed=$2 count=$3
here=$(cd "$(dirname "$0")" && pwd)
ref=$here/../serving/reference.py
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
/usr/bin/python3 "$ref" --random "$seed" "$dir" "$count" > /dev/null
fail=0
for f in "$dir"/case_*.toml; do
  set +e
  "$cli" solve --config "$f" --format json > "$f.ours.json" 2> "$f.ours.err"
  ours=$?
  /usr/bin/python3 "$ref" "$f" > "$f.ref.json" 2> "$f.ref.err"
  theirs=$?
  set -e
  if [[ $ours != "$theirs" ]]; then
    echo "$f: exit $ours, reference $theirs"; cat "$f.ours.err" "$f.ref.err"; fail=1; continue
  fi
  /usr/bin/python3 - "$f.ours.json" "$f.ref.json" <<'PY' || fail=1
import json, sys
ours, ref = (json.load(open(p)) for p in sys.argv[1:3])
def same(a, b, what):
    if a != b:
        print(f"{sys.argv[1]}: {what}: ours {a}, reference {b}")
        return False
    return True
ok = same(ours["status"], ref["status"], "status")
if ours["status"] == "optimal":
    ok &= same(ours["iteration_time_s_exact"], ref["iteration_time_s_exact"], "iteration time")
for name in ("gpu_hbm", "gpu_fetch", "device_all"):
    o, r = ours["baselines"][name], ref["baselines"][name]
    ok &= same(o["status"] == "feasible", r["status"] != "infeasible", name + " feasible")
    ok &= same(o["iteration_time_s_exact"], r["iteration_time_s_exact"], name + " iteration time (null: infeasible)")
sys.exit(0 if ok else 1)
PY
done
n=$(ls "$dir"/case_*.toml | wc -l)
if [[ $fail != 0 ]]; then echo "serving reference: disagreements in $n cases"; exit 1; fi
echo "serving reference: $n cases agree"
