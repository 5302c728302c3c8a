#!/usr/bin/env bash
# serving_sweep.sh CLI CONFIG: a sweep of the serving model over a workload key and a
# hardware key (docs/model.md §9.10): one row per point in order, each row equal to what
# `solve` says at that point (exact iteration time), and the JSON lines parse.
set -euo pipefail
cli=$1
cfg=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$cli" sweep --config "$cfg" --threads 2 --vary serving.adapters=1,2 \
  --vary "link.bandwidth_bytes_per_s=16GB/s,64GB/s" > "$dir/s.csv"
/usr/bin/python3 - "$dir/s.csv" "$cli" "$cfg" <<'PY'
import csv, subprocess, sys, json
rows = list(csv.DictReader(open(sys.argv[1])))
assert [(r["serving.adapters"], r["link.bandwidth_bytes_per_s"]) for r in rows] == \
    [("1", "1.6e10"), ("1", "6.4e10"), ("2", "1.6e10"), ("2", "6.4e10")], rows
for r in rows:
    assert r["status"] == "optimal", r
    out = subprocess.run([sys.argv[2], "solve", "--config", sys.argv[3], "--format", "json",
                          "--set", "serving.adapters=" + r["serving.adapters"],
                          "--set", "link.bandwidth_bytes_per_s=" + r["link.bandwidth_bytes_per_s"]],
                         capture_output=True, text=True, check=True).stdout
    j = json.loads(out)
    assert j["iteration_time_s_exact"] == r["iteration_time_s_exact"], (j["iteration_time_s_exact"], r)
    assert abs(j["gain_percent"] - float(r["gain_percent"])) < 1e-3, (j["gain_percent"], r)
    assert int(r["adapters_with_tokens"]) == int(r["serving.adapters"])
# A slower link makes fetching the device's adapters dearer for the GPU-only baseline.
assert float(rows[2]["gpu_fetch_tokens_per_s"]) < float(rows[3]["gpu_fetch_tokens_per_s"]), rows
print("serving sweep: 4 rows equal solve's answers")
PY
"$cli" sweep --config "$cfg" --vary serving.adapters=1 --format jsonl > "$dir/s.jsonl"
/usr/bin/python3 -c "
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 1
j = json.loads(lines[0])
assert j['vary'] == {'serving.adapters': '1'} and j['result']['status'] == 'optimal', j
print('serving sweep: jsonl ok')" "$dir/s.jsonl"
