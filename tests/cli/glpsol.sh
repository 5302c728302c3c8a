#!/usr/bin/env bash
# glpsol.sh CLI -- ARGS...: exports the final Dinkelbach step, solves it with GLPK's
# glpsol, and checks in exact arithmetic (lorasplit check) that GLPK's split is feasible
# and has exactly the throughput lorasplit certified. Exit 77 (skipped) without glpsol.
set -euo pipefail
cli=$1
shift 2
command -v glpsol >/dev/null || { echo "glpsol not installed: skipped"; exit 77; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$cli" export "$@" -o "$dir/p.lp"
glpsol --lp "$dir/p.lp" -w "$dir/p.sol" >"$dir/glpsol.log" || { cat "$dir/glpsol.log"; exit 1; }
grep -q "INTEGER OPTIMAL" "$dir/p.sol" || { echo "glpsol did not find an integer optimum"; cat "$dir/p.sol"; exit 1; }
col() { awk -v j="$1" '$1 == "j" && $2 == j { printf "%.0f", $3 }' "$dir/p.sol"; }
plan="$(col 1),$(col 2),$(col 3)"
# Whole outputs first, then grep: "cmd | grep -m1" can kill cmd with SIGPIPE under pipefail.
solved=$("$cli" solve "$@" --format json)
want=$(grep -m1 '"throughput_tokens_per_s_exact"' <<<"$solved")
domain_args=()
for a in "$@"; do case "$a" in --domain|binary|integer) ;; *) domain_args+=("$a") ;; esac; done
got=$("$cli" check "${domain_args[@]}" --plan "$plan" --format json || true)
grep -q '"feasible": true' <<<"$got" || { echo "GLPK's plan $plan is infeasible in exact arithmetic"; echo "$got"; exit 1; }
got_thr=$(grep -m1 '"throughput_tokens_per_s_exact"' <<<"$got")
if [ "${want//[[:space:]]/}" != "${got_thr//[[:space:]]/}" ]; then
  echo "GLPK's plan $plan: $got_thr, lorasplit: $want"; exit 1
fi
echo "ok: GLPK's split ($plan) has the certified throughput ${want#*: }"
