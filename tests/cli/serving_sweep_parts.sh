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
from fractions import Fraction
rows = list(csv.DictReader(open(sys.argv[1])))
assert [(r["hardware.gpu"], r["hardware.link"]) for r in rows] == [
    (g, l) for g in ("a100-80gb-sxm", "h100-sxm", "h200-sxm") for l in ("cxl2-x16", "cxl3-x16")], rows
for r in rows:
    assert r["status"] == "optimal", r
    out = subprocess.run([sys.argv[2], "solve", "--config", sys.argv[3], "--format", "json",
                          "--gpu", r["hardware.gpu"], "--link", r["hardware.link"]],
                         capture_output=True, text=True, check=True).stdout
    j = json.loads(out)
    assert Fraction(j["iteration_time_s_exact"]) == Fraction(r["iteration_time_s_exact"]), (j["iteration_time_s_exact"], r)
# The GPUs differ: a faster HBM serves the same batch sooner.
t = {(r["hardware.gpu"], r["hardware.link"]): float(r["iteration_time_s"]) for r in rows}
assert t[("h200-sxm", "cxl2-x16")] < t[("h100-sxm", "cxl2-x16")] < t[("a100-80gb-sxm", "cxl2-x16")], t
print("serving sweep over parts: 6 rows equal solve's answers")
PY
# A value the user writes stays over the parts, and a varied parameter goes over them in
# either order of the axes: every row equals solve with that part and that value.
"$cli" sweep --config "$cfg" --vary hardware.gpu=a100-80gb-sxm,h200-sxm \
  --set "gpu.memory_bandwidth_bytes_per_s=2 TB/s" > "$dir/w.csv"
"$cli" sweep --config "$cfg" --vary hardware.gpu=a100-80gb-sxm,h100-sxm --vary gpu.flops=1e12,1e15 > "$dir/a.csv"
"$cli" sweep --config "$cfg" --vary gpu.flops=1e12,1e15 --vary hardware.gpu=a100-80gb-sxm,h100-sxm > "$dir/b.csv"
/usr/bin/python3 - "$dir" "$cli" "$cfg" <<'PY'
import csv, json, subprocess, sys
from fractions import Fraction as F
d, cli, cfg = sys.argv[1:]
def solve(*args):  # exact, as a Fraction (the CSV writes terminating decimals, the JSON p/q)
    out = subprocess.run([cli, "solve", "--config", cfg, "--format", "json", *args], capture_output=True, text=True,
                         check=True).stdout
    return F(json.loads(out)["iteration_time_s_exact"])
w = list(csv.DictReader(open(d + "/w.csv")))
assert len(w) == 2, w
for r in w:
    assert F(r["iteration_time_s_exact"]) == solve("--gpu", r["hardware.gpu"], "--set",
                                                   "gpu.memory_bandwidth_bytes_per_s=2 TB/s"), r
a = {(r["hardware.gpu"], r["gpu.flops"]): F(r["iteration_time_s_exact"]) for r in csv.DictReader(open(d + "/a.csv"))}
b = {(r["hardware.gpu"], r["gpu.flops"]): F(r["iteration_time_s_exact"]) for r in csv.DictReader(open(d + "/b.csv"))}
assert a == b and len(a) == 4, (a, b)
for (gpu, flops), t in a.items():
    assert t == solve("--gpu", gpu, "--set", "gpu.flops=" + flops), (gpu, flops, t)
assert a[("h100-sxm", "1e12")] != a[("h100-sxm", "1e15")], a
print("serving sweep over parts: user values stay, varied parameters go over the parts in either order")
PY
