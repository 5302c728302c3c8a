#!/usr/bin/env bash
# shards.sh CLI N -- SWEEP ARGS...: the N shards of a sweep, concatenated, equal the sweep.
set -euo pipefail
cli=$1 n=$2
shift 3
whole=$(mktemp) parts=$(mktemp)
trap 'rm -f "$whole" "$parts"' EXIT
"$cli" sweep "$@" >"$whole"
for i in $(seq 1 "$n"); do "$cli" sweep "$@" --shard "$i/$n" >>"$parts"; done
if ! cmp -s "$whole" "$parts"; then
  echo "shards differ from the whole sweep"; diff "$whole" "$parts" | head -20; exit 1
fi
echo "ok: $(wc -l <"$whole") lines, $n shards"
