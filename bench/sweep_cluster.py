#!/usr/bin/env python3
"""A serving-model sweep run locally and on a Dask LocalCluster (docs/PERFORMANCE.md,
"Sweeps on a cluster"): points per second, the overhead of a shard, and the shard size at
which that overhead is under 5 % of the shard's work.

    PYTHONPATH=build/release/python /usr/bin/python3 bench/sweep_cluster.py \\
        --config tests/data/hand_serving.toml \\
        --vary link.bandwidth_bytes_per_s=lin:0.5:2:100 --vary cxl.flops=lin:1:8:100 \\
        --workers 2 --shards 2,8,32,128,512

Local: lorasplit.sweep(threads=WORKERS) in this process. Cluster: LocalCluster with
WORKERS processes of one thread each, lorasplit.sweep(client=, shards=S) for each S. With
P points of cost t (s, one core) and S shards of overhead o (s, one core) the cluster
takes about (P t + S o) / W + c: o is W times the slope of the time against S (least
squares over the shard counts), and a shard of m points costs under 5 % more than its
work when m > 20 o / t. Every cluster result is checked equal to the local one.
"""
import argparse
import sys
import time

import numpy as np

import lorasplit


def timed(f):
    t = time.perf_counter()
    out = f()
    return time.perf_counter() - t, out


def same(a, b):
    if list(a) != list(b):
        return False
    for k in a:
        x, y = a[k], b[k]
        if isinstance(x, np.ndarray) and x.dtype.kind == "f":
            if not np.array_equal(x, y, equal_nan=True):
                return False
        elif list(x) != list(y):
            return False
    return True


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--config", required=True)
    ap.add_argument("--vary", action="append", required=True, help="KEY=SPEC (once or twice)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--shards", default="2,8,32,128,512", help="shard counts, comma-separated")
    args = ap.parse_args()
    vary = dict(v.split("=", 1) for v in args.vary)
    shard_counts = [int(s) for s in args.shards.split(",")]

    from distributed import Client, LocalCluster

    t_local, local = timed(lambda: lorasplit.sweep(vary, config=args.config, threads=args.workers))
    points = len(local["status"])
    print(f"points: {points}")
    print(f"local, {args.workers} threads: {t_local:.2f} s, {points / t_local:.1f} points/s")
    t1 = t_local * args.workers / points  # one core's time per point
    with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True, dashboard_address=None,
                      silence_logs=50) as cluster, Client(cluster) as client:
        # Warm the workers (import lorasplit in each) so that the first row is not the start-up.
        lorasplit.sweep(vary, config=args.config, client=client, shards=args.workers * 2)
        times = []
        for s in shard_counts:
            t, res = timed(lambda: lorasplit.sweep(vary, config=args.config, client=client, shards=s))
            if not same(local, res):
                sys.exit(f"shards={s}: the cluster's columns differ from the local sweep's")
            times.append(t)
            print(f"cluster, {args.workers} workers, {s} shards ({points / s:.0f} points each): {t:.2f} s, "
                  f"{points / t:.1f} points/s, {100 * (t / t_local - 1):+.1f} % against local")
    slope = np.polyfit(shard_counts, times, 1)[0] if len(shard_counts) > 1 else float("nan")
    overhead = slope * args.workers
    print(f"time per point (one core): {1e3 * t1:.3f} ms")
    print(f"overhead per shard (one core): {1e3 * overhead:.1f} ms (slope {1e3 * slope:.2f} ms per shard)")
    if overhead > 0:
        print(f"shard size for overhead < 5 %: more than {20 * overhead / t1:.0f} points")


if __name__ == "__main__":
    main()
