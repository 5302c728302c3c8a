#!/usr/bin/env bash
# The serving model's worked study (README "The serving model", docs/model.md §9):
# Llama-3-8B on an H100 with a CXL-PNM-like device over CXL 2.0 x16
# (examples/serving_llama3_8b.toml, every number's provenance in that file), LoRA adapters
# of ranks 8-64 under Zipf popularity, weights in CXL memory.
#   scripts/serving-study.sh [LORASPLIT] [OUT_DIR]
# writes OUT_DIR/{adapters,link,device_bandwidth,device_flops}.csv and an SVG figure of
# each with gnuplot, and simulate_16_adapters.{txt,svg} (one layer of one plan, played out). Every plan is exact and simulated, and every point is proved optimal
# (status optimal). About 40 s on 2 cores (release build). A batch of 512 tokens with 1,024 tokens of context does not fit
# in the H100's 80 GB beside Llama-3-8B (the KV cache alone is 64 GiB): solve says so.
set -euo pipefail
cli=${1:-build/release/lorasplit}
out=${2:-docs/serving-study}
here=$(cd "$(dirname "$0")/.." && pwd)
cfg=$here/examples/serving_llama3_8b.toml
mkdir -p "$out"

# PLOT_ONLY=1: redraw the figures from the CSV files already in OUT_DIR.
if [ -z "${PLOT_ONLY:-}" ]; then
# 1. The number of adapters (1 to 1,000) at decode batches of 64, 128 and 256 tokens.
"$cli" sweep --config "$cfg" --vary serving.batch_tokens=64,128,256 \
  --vary serving.adapters=1,2,4,8,16,32,64,128,256,512,1000 > "$out/adapters.csv"
# 2. Where the device pays: the link's bandwidth, the device's memory bandwidth and its
#    compute, one at a time, at 64 adapters and 256 tokens.
"$cli" sweep --config "$cfg" --set serving.adapters=64 \
  --vary "link.bandwidth_bytes_per_s=8GB/s,16GB/s,32GB/s,64GB/s,128GB/s,256GB/s,512GB/s" > "$out/link.csv"
"$cli" sweep --config "$cfg" --set serving.adapters=64 \
  --vary "cxl.memory_bandwidth_bytes_per_s=100GB/s,200GB/s,400GB/s,800GB/s,1.1TB/s,2TB/s,4TB/s" \
  > "$out/device_bandwidth.csv"
"$cli" sweep --config "$cfg" --set serving.adapters=64 \
  --vary "cxl.flops=1TFLOPS,2TFLOPS,4TFLOPS,8TFLOPS,16TFLOPS,32TFLOPS,64TFLOPS" > "$out/device_flops.csv"
# 3. One layer of the optimum at 16 adapters and 256 tokens, played event by event: what
#    each resource does when (the report, and a Gantt chart drawn by lorasplit itself).
"$cli" simulate --config "$cfg" --set serving.adapters=16 --gantt "$out/simulate_16_adapters.svg" \
  > "$out/simulate_16_adapters.txt"
fi

command -v gnuplot >/dev/null || { echo "gnuplot not found: CSV files written, no figures"; exit 0; }
# Columns: see the header line of each file (gain_percent: over gpu_fetch; gain_over_gpu_hbm_percent).
gnuplot <<GP
set datafile separator ","
set terminal svg size 1100,440 dynamic font "sans,12" background "white"
set termoption noenhanced
set key top left
set grid
set ylabel "gain of the optimum [%]"

set output "$out/adapters.svg"
set multiplot layout 1,2 title "Llama-3-8B, H100 + CXL device (64 GB/s link): the exact split as adapters grow"
set xlabel "adapters (Zipf s = 1, ranks 8-64, weights in CXL memory)"
set logscale x
set title "over gpu_fetch (adapters fetched over the link)"
plot for [b in "64 128 256"] "$out/adapters.csv" using (\$1==b+0 ? \$2 : 1/0):7 with linespoints \
       title "batch ".b." tokens"
set title "over gpu_hbm (every adapter in HBM; absent where they do not fit)"
set key bottom left
plot for [b in "64 128 256"] "$out/adapters.csv" using (\$1==b+0 ? \$2 : 1/0):8 with linespoints \
       title "batch ".b." tokens", 0 with lines dashtype 2 lc "black" notitle
unset multiplot
unset logscale x
set key right center

set logscale x 2
set output "$out/link.svg"
set title "64 adapters, 256 tokens: the link's bandwidth"
set xlabel "link bandwidth per direction [GB/s]"
plot "$out/link.csv" using (\$1/1e9):6 with linespoints title "over gpu_fetch", \
     "" using (\$1/1e9):7 with linespoints title "over gpu_hbm", 0 with lines dashtype 2 lc "black" notitle

set output "$out/device_bandwidth.svg"
set title "64 adapters, 256 tokens: the device's memory bandwidth"
set xlabel "device memory bandwidth [GB/s]"
plot "$out/device_bandwidth.csv" using (\$1/1e9):6 with linespoints title "over gpu_fetch", \
     "" using (\$1/1e9):7 with linespoints title "over gpu_hbm", 0 with lines dashtype 2 lc "black" notitle

set output "$out/device_flops.svg"
set title "64 adapters, 256 tokens: the device's compute"
set xlabel "device FLOP/s [TFLOPS]"
plot "$out/device_flops.csv" using (\$1/1e12):6 with linespoints title "over gpu_fetch", \
     "" using (\$1/1e12):7 with linespoints title "over gpu_hbm", 0 with lines dashtype 2 lc "black" notitle
GP
echo "wrote $out/*.csv and $out/*.svg"
