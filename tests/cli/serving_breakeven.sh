#!/usr/bin/env bash
# serving_breakeven.sh CLI CONFIG PARAM BASELINE TARGET: the serving model's break-even
# (docs/model.md §9.11) checked against solve: at the passing value the plan beats BASELINE
# by more than TARGET %, at the failing one it does not, both exactly (Fractions from the
# solve's exact throughputs), and the reported gains are those.
set -euo pipefail
cli=$1 cfg=$2 param=$3 baseline=$4 target=$5
out=$("$cli" breakeven --config "$cfg" --param "$param" --over "$baseline" --gain "$target" --format json)
/usr/bin/python3 - "$cli" "$cfg" "$param" "$baseline" "$target" "$out" <<'PY'
import json, subprocess, sys
from decimal import Decimal, getcontext
from fractions import Fraction
cli, cfg, param, baseline, target, out = sys.argv[1:]
b = json.loads(out)
assert b["baseline"] == baseline and b["param"] == param, b
target = Fraction(target)
def decimal(value):  # the exact decimal of a "p/q" whose q divides a power of 10
    fr = Fraction(value)
    getcontext().prec = 200
    d = Decimal(fr.numerator) / Decimal(fr.denominator)
    assert Fraction(d) == fr, value
    return format(d, "f")
def gain(value):
    s = subprocess.run([cli, "solve", "--config", cfg, "--set", f"{param}={decimal(value)}", "--format", "json"],
                       capture_output=True, text=True)
    assert s.returncode in (0, 1), s.stderr
    j = json.loads(s.stdout)
    base = j["baselines"][baseline]
    if j["status"] != "optimal" or base["status"] != "feasible" and "throughput_tokens_per_s_exact" not in base:
        return None
    return 100 * (Fraction(j["throughput_tokens_per_s_exact"]) / Fraction(base["throughput_tokens_per_s_exact"]) - 1)
print("kind:", b["kind"], "value:", b.get("value"), "solves:", b["solves"])
if b["kind"] in ("threshold", "window"):
    gp, gf = gain(b["passing_value_exact"]), gain(b["failing_value_exact"])
    assert gp is not None and gp > target, (gp, target)
    assert gf is None or gf <= target, (gf, target)
    assert Fraction(b["gain_at_passing_percent_exact"]) == gp
    if gf is not None:
        assert Fraction(b["gain_at_failing_percent_exact"]) == gf
    p, f = Fraction(b["passing_value_exact"]), Fraction(b["failing_value_exact"])
    assert abs(p - f) <= abs(p) / 10**9, (p, f)  # bracketed to relative 1e-9
    print(f"ok: {param} = {float(p):.9g} gives {float(gp):+.6g} %, {float(f):.9g} gives "
          f"{'no plan' if gf is None else f'{float(gf):+.6g} %'} (over {baseline}, target {target} %)")
else:
    raise SystemExit(f"expected a threshold: {b['kind']}")
PY
