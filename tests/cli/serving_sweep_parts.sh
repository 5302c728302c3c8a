#!/usr/bin/env bash
# serving_sweep_parts.sh CLI CONFIG: a serving sweep over parts of the hardware library
# (docs/model.md §9.10, docs/hardware.md): one row per GPU in order, each equal to what
# `solve --gpu NAME` says; a value the config writes stays over every part.
set -euo pipefail
cli=$1
cfg=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$cli" sweep --config "$cfg" --threads 2 --vary hardware.gpu=a100-80gb-sxm,h100-sxm,h200-sxm \
  --vary hardware.link=cxl2-x16,cxl3-x16 > "$dir/s.csv"
/usr/bin/python3 - "$dir/s.csv" "$cli" "$cfg" <<'PY'
import csv, subprocess, sys, json
rows = list(csv.DictReader(open(sys.argv[1])))
assert [(r["hardware.gpu"], r["hardware.link"]) for r in rows] == [
    (g, l) for g in ("a100-80gb-sxm", "h100-sxm", "h200-sxm") for l in ("cxl2-x16", "cxl3-x16")], rows
for r in rows:
    assert r["status"] == "optimal", r
    out = subprocess.run([sys.argv[2], "solve", "--config", sys.argv[3], "--format", "json",
                          "--gpu", r["hardware.gpu"], "--link", r["hardware.link"]],
                         capture_output=True, text=True, check=True).stdout
    j = json.loads(out)
    assert j["iteration_time_s_exact"] == r["iteration_time_s_exact"], (j["iteration_time_s_exact"], r)
# The GPUs differ: a faster HBM serves the same batch sooner.
t = {(r["hardware.gpu"], r["hardware.link"]): float(r["iteration_time_s"]) for r in rows}
assert t[("h200-sxm", "cxl2-x16")] < t[("h100-sxm", "cxl2-x16")] < t[("a100-80gb-sxm", "cxl2-x16")], t
print("serving sweep over parts: 6 rows equal solve's answers")
PY
# A value the user writes stays over the parts: every row then has the same GPU bandwidth.
"$cli" sweep --config "$cfg" --vary hardware.gpu=a100-80gb-sxm,h200-sxm \
  --set "gpu.memory_bandwidth_bytes_per_s=2 TB/s" --set "gpu.memory_bytes=80 GB" > "$dir/w.csv"
/usr/bin/python3 - "$dir/w.csv" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
assert len(rows) == 2 and all(r["status"] == "optimal" for r in rows), rows
print("serving sweep over parts: user values stay")
PY
