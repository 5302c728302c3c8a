#!/usr/bin/env bash
# serving_plot.sh CLI CONFIG PNG_COLOUR: sweep --plot under the serving model
# (docs/model.md §9.10). One axis (SVG): the figure names the optimum, the three baselines
# and both gains, the x axis says what varies; the CSV on stdout is the one printed
# without --plot. Two axes (PNG): coloured lines are drawn (pixels read). Without gnuplot
# the CLI says no plot was written and still prints the data.
set -euo pipefail
cli=$1 config=$2 colour=$3
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
sets=(--config "$config" --set serving.batch_tokens=32)
"$cli" sweep "${sets[@]}" --vary serving.adapters=1,2,4,8 > "$dir/plain.csv"
"$cli" sweep "${sets[@]}" --vary serving.adapters=1,2,4,8 --plot "$dir/one.svg" > "$dir/with_plot.csv" 2> "$dir/err.txt"
cmp "$dir/plain.csv" "$dir/with_plot.csv"
if ! command -v gnuplot >/dev/null; then
  grep -q "no plot written: .*gnuplot is not installed" "$dir/err.txt" || { cat "$dir/err.txt"; exit 1; }
  echo "ok: no gnuplot, CLI said so"; exit 0
fi
for text in "adapters (serving.adapters)" "throughput [tokens/s]" "gain of the optimum [%]" ">optimum<" ">gpu_fetch<" \
            ">gpu_hbm<" ">device_all<" ">over gpu_fetch<" ">over gpu_hbm<"; do
  grep -qF "$text" "$dir/one.svg" || { echo "the figure does not say '$text'"; exit 1; }
done
if command -v xmllint >/dev/null; then xmllint --noout "$dir/one.svg"; fi
# Points drawn, not only legend samples: 4 x values, 4 throughput and 2 gain series (at
# least 24 markers where every baseline exists; 6 legend samples alone without data).
points=$(grep -c "<use xlink:href='#gpPt" "$dir/one.svg" || true)
[ "$points" -ge 24 ] || { echo "only $points point markers in the figure"; exit 1; }
"$cli" sweep "${sets[@]}" --vary "link.bandwidth_bytes_per_s=16GB/s,64GB/s,256GB/s" --vary serving.adapters=2,8 \
  --plot "$dir/two.png" > /dev/null
/usr/bin/python3 "$colour" "$dir/two.png" 0.002
echo "ok: serving figures"
