#!/usr/bin/env python3
"""Sweep the CXL link bandwidth and plot the gain of the exact optimal split over GPU-only.

    PYTHONPATH=build/release/python python3 examples/bandwidth_gain.py gain.png
"""
import sys

import matplotlib

matplotlib.use("Agg")  # no display needed
import matplotlib.pyplot as plt  # noqa: E402

import lorasplit  # noqa: E402

out = sys.argv[1] if len(sys.argv) > 1 else "bandwidth_gain.png"
fig, ax = plt.subplots(figsize=(7, 4.5))
for r in (4, 8, 16):
    cols = lorasplit.sweep({"link.bandwidth_bytes_per_s": "log:1GiB/s:1TiB/s:40"}, params={"lora.r": r})
    ax.semilogx(cols["link.bandwidth_bytes_per_s"], cols["gain_percent"], marker=".", label=f"r = {r}")
ax.set_xlabel("link.bandwidth_bytes_per_s [B/s]")
ax.set_ylabel("gain of the optimal split over GPU-only [%]")
ax.set_title("lorasplit: seed numbers, exact optimum at every point")
ax.grid(True, which="both", alpha=0.3)
ax.legend()
fig.tight_layout()
fig.savefig(out, dpi=120)
print(f"wrote {out}")
