#!/usr/bin/env bash
# plot.sh CLI OUT -- ARGS...: runs the CLI with --plot OUT and checks the picture. Without
# gnuplot the CLI must still succeed and say that no plot was written.
set -euo pipefail
cli=$1 out=$2
shift 3
rm -f "$out"
err=$(mktemp)
trap 'rm -f "$err"' EXIT
"$cli" "$@" --plot "$out" >/dev/null 2>"$err"
if ! command -v gnuplot >/dev/null; then
  grep -q "no plot written: .*gnuplot is not installed" "$err" || { cat "$err"; exit 1; }
  echo "ok: no gnuplot, CLI said so"; exit 0
fi
[ -s "$out" ] || { echo "no plot at $out"; cat "$err"; exit 1; }
case "$out" in
  *.svg) grep -q "<svg" "$out" && grep -q "</svg>" "$out" || { echo "not an SVG"; exit 1; }
         if command -v xmllint >/dev/null; then xmllint --noout "$out"; fi ;;
  *.png) magic=$(od -An -tx1 -N4 "$out"); [[ "$magic" == *"89 50 4e 47"* ]] || { echo "not a PNG"; exit 1; } ;;
esac
echo "ok: $out ($(wc -c <"$out") bytes)"
