#!/usr/bin/env bash
# simulate.sh CLI DATA: writes the trace and the Gantt chart of a small simulation and
# checks them with independent readers: the trace with Python's json module (one track per
# resource, one span per task), the SVG with xmllint (well-formed XML).
set -euo pipefail
cli=$1
data=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$cli" simulate --config "$data/hand_pipeline.toml" --set pipeline.chunk_tokens=1 --batches 2 --overlap \
  --trace "$dir/t.json" --gantt "$dir/g.svg" > "$dir/out.txt"
grep -q "The simulated stage times equal the model's exactly" "$dir/out.txt" || { cat "$dir/out.txt"; exit 1; }
/usr/bin/python3 - "$dir/t.json" <<'PY'
import json, sys
events = json.load(open(sys.argv[1]))["traceEvents"]
tracks = [e["args"]["name"] for e in events if e["ph"] == "M" and e["name"] == "thread_name"]
assert tracks == ["gpu", "cxl", "link.to_device", "link.to_gpu"], tracks
spans = [e for e in events if e["ph"] == "X"]
assert len(spans) == 36, len(spans)
assert all(e["dur"] >= 0 and e["tid"] in (1, 2, 3, 4) for e in spans)
print("trace ok:", len(spans), "spans on", len(tracks), "tracks")
PY
if command -v xmllint >/dev/null; then
  xmllint --noout "$dir/g.svg"
  echo "svg ok"
else
  grep -q '</svg>' "$dir/g.svg"
fi
