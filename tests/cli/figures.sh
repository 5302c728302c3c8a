#!/usr/bin/env bash
# figures.sh CLI: what a figure says, read from the SVG's text (issue 18): axis labels
# from the parameters' meanings, SI ticks with units, legend entries in readable units, a
# flat panel left out and named in the title, --title/--xlabel/--ylabel, PDF output, and
# titles that are only text to gnuplot (a backquoted command in one runs nothing).
set -u
cli=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail=0
check() {  # check FILE REGEX WHAT
  if ! grep -Eq -- "$2" "$1"; then echo "FAIL: $3 (/$2/ not in $1)"; fail=1; else echo "ok: $3"; fi
}
"$cli" sweep --vary "link.bandwidth_bytes_per_s=log:1GB/s:1TB/s:10" --vary "cxl.flops=0.5e12,1.93e12" \
  --plot "$dir/a.svg" >/dev/null || { echo "FAIL: sweep --plot a.svg"; exit 1; }
check "$dir/a.svg" ">CXL link bandwidth between GPU and device \(link.bandwidth_bytes_per_s\)<" "x label is the meaning"
check "$dir/a.svg" ">1 GB/s<" "decade tick with SI prefix and unit"
check "$dir/a.svg" ">1 TB/s<" "last decade tick"
check "$dir/a.svg" ">cxl.flops = 500 GFLOPS<" "legend in readable units"
check "$dir/a.svg" ">cxl.flops = 1.93 TFLOPS<" "second legend entry"
check "$dir/a.svg" "gain over GPU-only" "gain panel present when the gain varies"
# Both gains are 0 when the device is absent: that panel is dropped, the title says so.
"$cli" sweep --vary "gpu.flops=lin:1TFLOPS:20TFLOPS:6" --set "cxl.flops=1e-30 FLOP/s" --plot "$dir/flat.svg" \
  >/dev/null || { echo "FAIL: flat sweep"; exit 1; }
check "$dir/flat.svg" "the gain is [+]0 % at every point" "flat gain named in the title"
if grep -q "gain over GPU-only \[%\]<" "$dir/flat.svg"; then echo "FAIL: flat gain panel drawn"; fail=1; fi
# The caller's words; a backquoted command in them is text, never run.
marker="$dir/ran"
"$cli" sweep --vary "link.latency_s=log:1ns:10us:5" --plot "$dir/t.svg" --title "it's \`touch $marker\` @x" \
  --xlabel "link latency" --ylabel "tokens per second" >/dev/null || { echo "FAIL: --title"; exit 1; }
check "$dir/t.svg" "it&#39;s \`touch |it's \`touch " "the title is the caller's text"
check "$dir/t.svg" ">link latency<" "--xlabel"
check "$dir/t.svg" ">tokens per second<" "--ylabel"
check "$dir/t.svg" ">1 us<" "time ticks in us"
if [ -e "$marker" ]; then echo "FAIL: a backquoted command in the title ran"; fail=1; else echo "ok: nothing ran"; fi
# The frontier: time ticks in SI units, throughput ticks with the digits that tell them apart.
"$cli" pareto --points 12 --plot "$dir/p.svg" >/dev/null || { echo "FAIL: pareto svg"; exit 1; }
check "$dir/p.svg" ">10 us<" "frontier x ticks in us"
check "$dir/p.svg" ">1.9205 G<" "frontier y ticks with enough digits"
dups=$(grep -oE '>1\.9[0-9]* G<' "$dir/p.svg" | sort | uniq -d)
if [ -n "$dups" ]; then echo "FAIL: repeated tick labels: $dups"; fail=1; else echo "ok: tick labels distinct"; fi
# PDF: vector output for LaTeX.
"$cli" pareto --points 6 --plot "$dir/f.pdf" --title "frontier" >/dev/null || { echo "FAIL: pareto pdf"; exit 1; }
if [ "$(head -c 5 "$dir/f.pdf")" = "%PDF-" ]; then echo "ok: PDF"; else echo "FAIL: not a PDF"; fail=1; fi
# Any other extension is refused with the formats named, and nothing is written.
"$cli" sweep --vary "link.latency_s=log:1ns:10us:3" --plot "$dir/x.jpg" >/dev/null 2>"$dir/err"
check "$dir/err" "must end in .svg, .png or .pdf" "other formats refused"
[ -e "$dir/x.jpg" ] && { echo "FAIL: x.jpg written"; fail=1; }
exit $fail
