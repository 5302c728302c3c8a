"""The torch backend of lorasplit's calibration (docs/calibration.md).

Runs where PyTorch is, with no build of lorasplit: ``python3 -m lorasplit.calibrate``
measures the LoRA kernels (shrink x·A, expand y·B) and the base GEMM with ``torch.matmul``
on CUDA when a GPU is present (else on the CPU), a streaming copy, and on a GPU the
host-to-device and device-to-host copies by size (the link's stand-in); fits the roofline
``time = max(FLOPs / F, bytes / W) + o`` of docs/model.md section 9.3 by least squares on
log time (the same Nelder-Mead as the C++ backend, restated here so that this file runs
alone), and writes the profile that ``lorasplit ... --gpu FILE`` (or ``--cxl``,
``--link``) reads, every value ``{ value, measured = "how, where, when" }``.

Units: seconds, bytes, FLOP/s, bytes/s.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import socket
import statistics
import sys
import time
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

Shape = Tuple[str, int, int, int]  # kind, tokens, d_in, d_out: (tokens x d_in) · (d_in x d_out)
KERNEL_KINDS = ("shrink", "expand", "base")  # in the order the reports list them


def shapes(quick: bool) -> List[Shape]:
    """The shapes measured, in the order the C++ backend measures them."""
    tokens = [1, 16, 128] if quick else [1, 4, 16, 64, 256, 1024, 4096]
    dims = [1024, 4096] if quick else [1024, 2048, 4096, 8192]
    ranks = [16, 64] if quick else [4, 8, 16, 32, 64, 128]
    out: List[Shape] = []
    for t in tokens:
        for d in dims:
            for r in ranks:
                out.append(("shrink", t, d, r))
                out.append(("expand", t, r, d))
    for t in ([1, 16, 128] if quick else [1, 16, 256, 1024]):
        for d in ([1024, 2048] if quick else [1024, 2048, 4096]):
            out.append(("base", t, d, d))
    return out


def flops(s: Shape) -> float:
    return 2.0 * s[1] * s[2] * s[3]


def nbytes(s: Shape, element_bytes: int) -> float:
    _, t, i, o = s
    return float(element_bytes * (t * i + i * o + t * o))


def roofline_time_s(fit: Dict[str, float], f: float, b: float) -> float:
    return max(f / fit["flops_per_s"], b / fit["bytes_per_s"]) + fit["overhead_s"]


def _nelder_mead(cost: Callable[[List[float]], float], start: List[float], step: float) -> List[float]:
    n = len(start)
    simplex = [list(start)] + [[x + (step if i == j else 0.0) for j, x in enumerate(start)] for i in range(n)]
    costs = [cost(p) for p in simplex]

    def along(a: List[float], b: List[float], t: float) -> List[float]:
        return [x + t * (y - x) for x, y in zip(a, b)]

    for _ in range(4000):
        order = sorted(range(n + 1), key=lambda k: costs[k])
        best, worst, second = order[0], order[-1], order[-2]
        if costs[worst] - costs[best] < 1e-14 * (1 + costs[best]):
            break
        centroid = [sum(simplex[k][i] for k in order[:-1]) / n for i in range(n)]
        reflected = along(centroid, simplex[worst], -1)
        cr = cost(reflected)
        if cr < costs[best]:
            expanded = along(centroid, simplex[worst], -2)
            ce = cost(expanded)
            simplex[worst], costs[worst] = (expanded, ce) if ce < cr else (reflected, cr)
        elif cr < costs[second]:
            simplex[worst], costs[worst] = reflected, cr
        else:
            contracted = along(centroid, simplex[worst], 0.5)
            cc = cost(contracted)
            if cc < costs[worst]:
                simplex[worst], costs[worst] = contracted, cc
            else:
                for k in order[1:]:
                    simplex[k] = along(simplex[best], simplex[k], 0.5)
                    costs[k] = cost(simplex[k])
    return simplex[min(range(n + 1), key=lambda k: costs[k])]


def fit_roofline(kernels: Sequence[Dict[str, Any]]) -> Dict[str, float]:
    """Least squares on log time over ``kernels`` (each with ``flops``, ``bytes``,
    ``median_s``); the errors |predicted / measured - 1| and the shapes on each side."""
    if not kernels:
        raise ValueError("fit_roofline: no measurements")

    def cost(x: List[float]) -> float:
        fit = {"flops_per_s": math.exp(x[0]), "bytes_per_s": math.exp(x[1]), "overhead_s": math.exp(x[2])}
        return sum(math.log(roofline_time_s(fit, k["flops"], k["bytes"]) / k["median_s"]) ** 2 for k in kernels)

    p0 = max(k["flops"] / k["median_s"] for k in kernels)
    w0 = max(k["bytes"] / k["median_s"] for k in kernels)
    t_min = min(k["median_s"] for k in kernels)
    # The max() makes the cost kinked with several local minima: Nelder-Mead (then a
    # restart from its best point) from the three best points of a coarse grid.
    grid = sorted(((cost(x), x) for x in ([math.log(p0) - i * math.log(2.0), math.log(w0) - j * math.log(2.0),
                                           math.log(f * t_min)]
                                          for i in range(7) for j in range(7)
                                          for f in (1e-3, 0.01, 0.1, 0.3, 0.6, 0.9))), key=lambda g: g[0])[:3]
    x = min((_nelder_mead(cost, _nelder_mead(cost, g[1], 0.5), 0.1) for g in grid), key=cost)
    fit = {"flops_per_s": math.exp(x[0]), "bytes_per_s": math.exp(x[1]), "overhead_s": math.exp(x[2])}
    errors = sorted(abs(roofline_time_s(fit, k["flops"], k["bytes"]) / k["median_s"] - 1) for k in kernels)
    fit["median_abs_error"] = statistics.median(errors)
    fit["p90_abs_error"] = _p90(errors)
    compute = sum(1 for k in kernels if k["flops"] / fit["flops_per_s"] >= k["bytes"] / fit["bytes_per_s"])
    fit["compute_bound_shapes"] = compute
    fit["memory_bound_shapes"] = len(kernels) - compute
    fit_efficiency_table(fit, kernels)
    return fit


def _median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else 0.0


def _p90(values: Sequence[float]) -> float:  # nearest rank, as the C++ backend's
    v = sorted(values)
    return v[min(len(v) - 1, max(0, math.ceil(0.9 * len(v)) - 1))] if v else 0.0


def table_time_s(fit: Dict[str, Any], kind: str, tokens: int, flops_: float, bytes_: float) -> float:
    """The roofline's time / e, e the efficiency of ``kind`` at ``tokens`` (1 where none)."""
    e = next((c["efficiency"] for c in fit.get("efficiency_table", [])
              if c["kind"] == kind and c["tokens"] == tokens), 1.0)
    return roofline_time_s(fit, flops_, bytes_) / e


def fit_efficiency_table(fit: Dict[str, Any], kernels: Sequence[Dict[str, Any]]) -> None:
    """The size-dependent efficiency (docs/calibration.md, "One rate does not fit every
    size"): per kernel kind and token count, e = the median over its shapes of predicted /
    measured, the kernels taking the roofline's time / e; and the errors with it. Reported,
    not read by the models (their kernels have one rate per side)."""
    table = []
    for kind in KERNEL_KINDS:
        ratios: Dict[int, List[float]] = {}
        for k in kernels:
            if k["kind"] == kind and k["median_s"] > 0:
                ratios.setdefault(k["tokens"], []).append(roofline_time_s(fit, k["flops"], k["bytes"]) / k["median_s"])
        table += [{"kind": kind, "tokens": t, "shapes": len(r), "efficiency": _median(r)}
                  for t, r in sorted(ratios.items())]
    fit["efficiency_table"] = table
    errors = [abs(table_time_s(fit, k["kind"], k["tokens"], k["flops"], k["bytes"]) / k["median_s"] - 1)
              for k in kernels]
    fit["table_median_abs_error"] = _median(errors)
    fit["table_p90_abs_error"] = _p90(errors)


def efficiency_rows(table: Sequence[Dict[str, Any]], prefix: str) -> List[str]:
    tokens = sorted({c["tokens"] for c in table})
    rows = [f"{prefix}{'tokens':<8}" + "".join(f"{t:>7}" for t in tokens)]
    for kind in KERNEL_KINDS:
        cells = {c["tokens"]: c["efficiency"] for c in table if c["kind"] == kind}
        if cells:
            rows.append(f"{prefix}{kind:<8}" + "".join(f"{cells[t]:>7.3f}" if t in cells else f"{'-':>7}"
                                                      for t in tokens))
    return rows


def fit_link(copies: Sequence[Dict[str, Any]]) -> Dict[str, float]:
    """``time = latency + bytes / bandwidth`` fitted to copies by size, least squares on log time."""
    def cost(x: List[float]) -> float:
        return sum(math.log((math.exp(x[0]) + c["bytes"] / math.exp(x[1])) / c["median_s"]) ** 2 for c in copies)

    start = [math.log(min(c["median_s"] for c in copies) * 0.5), math.log(max(c["bytes"] / c["median_s"] for c in copies))]
    x = _nelder_mead(cost, _nelder_mead(cost, start, 0.5), 0.1)
    return {"latency_s": math.exp(x[0]), "bytes_per_s": math.exp(x[1])}


def _g4(x: float) -> str:
    return f"{x:.4g}"


def _toml_string(s: str) -> str:
    out = []
    for ch in s:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def profile_toml(c: Dict[str, Any], side: str) -> str:
    """The profile: [SIDE] with the fitted roofline, and [link] when copies were measured."""
    fit = c["fit"]
    how = (f"{len(c['kernels'])} kernels (shrink, expand, base GEMM; {c['precision']}) measured with {c['library']} "
           f"on {c['device']}, host {c['host']} at {c['date']}; roofline fitted by least squares on log time, median "
           f"|error| {100 * fit['median_abs_error']:.1f} %, p90 {100 * fit['p90_abs_error']:.1f} %; "
           f"{fit['compute_bound_shapes']} shapes compute-bound, {fit['memory_bound_shapes']} memory-bound")
    bound = ""
    if fit["compute_bound_shapes"] == 0:
        bound = " (no shape was compute-bound: the compute rate is only a lower bound)"
    elif fit["memory_bound_shapes"] == 0:
        bound = " (no shape was memory-bound: the memory rate is only a lower bound)"
    lines = [f"# A hardware profile measured by `python3 -m lorasplit.calibrate` (torch backend) on {c['host']} at "
             f"{c['date']}.",
             f"# Use it as --{side} FILE{' and --link FILE' if c.get('link') else ''}; every value says how it was "
             "measured.",
             f"[{side}]",
             f"flops = {{ value = {_toml_string(_g4(fit['flops_per_s']))}, measured = "
             f"{_toml_string('the compute rate the GEMMs reach' + bound + ': ' + how)} }}",
             f"efficiency = {{ value = \"1\", measured = {_toml_string('the fitted flops is the rate reached (peak times efficiency), so 1; host ' + c['host'] + ' at ' + c['date'])} }}",
             f"memory_bandwidth_bytes_per_s = {{ value = {_toml_string(_g4(fit['bytes_per_s']))}, measured = "
             f"{_toml_string('the memory rate the GEMMs reach (a streaming copy reached ' + _g4(c['stream_bytes_per_s']) + ' B/s): ' + how)} }}",
             f"kernel_overhead_s = {{ value = {_toml_string(_g4(fit['overhead_s']))}, measured = "
             f"{_toml_string('the fixed time of one GEMM call: ' + how)} }}"]
    if c.get("memory_bytes"):
        lines.append(f"memory_bytes = {{ value = \"{c['memory_bytes']}\", measured = "
                     f"{_toml_string(c['memory_bytes_how'])} }}")
    if c.get("efficiency_table"):
        lines += ["# The size-dependent efficiency measured with it (not read: the models have one rate per side): the",
                  f"# kernels take the roofline's time / e, by kernel and tokens; |error| median "
                  f"{100 * fit['table_median_abs_error']:.1f} %, p90 {100 * fit['table_p90_abs_error']:.1f} % with it:"]
        lines += efficiency_rows(c["efficiency_table"], "#   ")
    if c.get("link"):
        link = c["link"]
        what = (f"host-to-device copies of {len(link['copies'])} sizes (pinned memory, torch) on {c['device']}, host "
                f"{c['host']} at {c['date']}; latency + bytes / bandwidth fitted by least squares on log time")
        lines += ["", "[link]",
                  f"bandwidth_bytes_per_s = {{ value = {_toml_string(_g4(link['fit']['bytes_per_s']))}, measured = "
                  f"{_toml_string(what)} }}",
                  f"latency_s = {{ value = {_toml_string(_g4(link['fit']['latency_s']))}, measured = "
                  f"{_toml_string(what)} }}"]
    return "\n".join(lines) + "\n"


def report(c: Dict[str, Any]) -> str:
    fit = c["fit"]
    out = [f"Calibration: backend torch, {c['library']}, {c['precision']}, on {c['device']}",
           f"  host {c['host']}, {c['date']}; {len(c['kernels'])} kernels and a streaming copy in {c['seconds']:.1f} s",
           f"  streaming copy: {c['stream_bytes_per_s'] / 1e9:.4g} GB/s (read + written)",
           f"  fitted roofline: {fit['flops_per_s'] / 1e9:.4g} GFLOP/s, {fit['bytes_per_s'] / 1e9:.4g} GB/s, "
           f"{fit['overhead_s'] * 1e6:.3g} us per kernel; {fit['compute_bound_shapes']} shapes compute-bound, "
           f"{fit['memory_bound_shapes']} memory-bound", "",
           f"  {'kind':<7}{'tokens':>7}{'d_in':>7}{'d_out':>7}{'measured':>13}{'spread':>9}{'predicted':>13}"
           f"{'error':>9}  {'bound':<8}{'GFLOP/s':>9}{'GB/s':>9}"]
    for k in c["kernels"]:
        pred = k["predicted_s"]
        bound = "compute" if k["flops"] / fit["flops_per_s"] >= k["bytes"] / fit["bytes_per_s"] else "memory"
        out.append(f"  {k['kind']:<7}{k['tokens']:>7}{k['d_in']:>7}{k['d_out']:>7}{k['median_s'] * 1e6:>10.2f} us"
                   f"{100 * (k['max_s'] - k['min_s']) / k['median_s']:>7.1f} %{pred * 1e6:>10.2f} us"
                   f"{100 * k['error']:>+7.1f} %  {bound:<8}{k['flops'] / k['median_s'] / 1e9:>9.3g}"
                   f"{k['bytes'] / k['median_s'] / 1e9:>9.3g}")
    out.append(f"\n  |error|: median {100 * fit['median_abs_error']:.1f} %, p90 {100 * fit['p90_abs_error']:.1f} %")
    if c.get("efficiency_table"):
        out += ["", "  One rate does not fit every size: the efficiency e by kernel and tokens, the kernels taking the "
                "roofline's time / e",
                "  (the median of predicted / measured over each cell's shapes; reported, not read by the models,",
                "  whose kernels have one rate per side):"]
        out += efficiency_rows(c["efficiency_table"], "    ")
        out.append(f"  |error| with it: median {100 * fit['table_median_abs_error']:.1f} %, p90 "
                   f"{100 * fit['table_p90_abs_error']:.1f} % (without: {100 * fit['median_abs_error']:.1f} %, "
                   f"{100 * fit['p90_abs_error']:.1f} %)")
    if c.get("link"):
        lf = c["link"]["fit"]
        out.append(f"  host-to-device copies: {lf['bytes_per_s'] / 1e9:.4g} GB/s, latency {lf['latency_s'] * 1e6:.3g} us")
    return "\n".join(out) + "\n"


def calibrate(quick: bool = False, device: Optional[str] = None,
              progress: Optional[Callable[[int, int, str], None]] = None) -> Dict[str, Any]:
    """Measures with torch on ``device`` ("cuda" when a GPU is present, else "cpu") and
    fits; returns the record that ``profile_toml`` and ``report`` render (the JSON of
    ``--format json``)."""
    import torch  # here, so that the fit and the writers run without torch

    t_start = time.perf_counter()
    dev = device or ("cuda" if torch.cuda.is_available() else "cpu")
    cuda = dev.startswith("cuda")
    if cuda and not torch.cuda.is_available():
        raise ValueError(f"device = '{dev}': no CUDA device is visible to torch")
    dtype = torch.bfloat16 if cuda else torch.float32
    element_bytes = 2 if cuda else 4
    name = torch.cuda.get_device_name(0) if cuda else (platform.processor() or platform.machine())

    def sync() -> None:
        if cuda:
            torch.cuda.synchronize()

    flush = torch.empty(((512 if cuda else 384) << 20) // 4, dtype=torch.float32, device=dev)
    flush.fill_(1.0)

    def evict() -> None:  # operands from memory, not from a cache warmed by the last call
        flush.add_(1.0)
        sync()

    todo = shapes(quick)
    total = len(todo) + 1
    if progress:
        progress(0, total, "copy")
    n = (64 if quick else 256) << 20
    a = torch.ones(n // 4, dtype=torch.float32, device=dev)
    b = torch.empty_like(a)
    b.copy_(a)
    rates = []
    for _ in range(5):
        sync()
        t0 = time.perf_counter()
        b.copy_(a)
        sync()
        rates.append(2.0 * n / (time.perf_counter() - t0))
    stream = statistics.median(rates)
    del a, b

    target = 0.01 if quick else 0.1
    max_reps = 5 if quick else 15
    kernels = []
    for i, s in enumerate(todo, start=1):
        if progress:
            progress(i, total, f"{s[0]} {s[1]}x{s[2]}x{s[3]}")
        _, t, k, o = s
        x = torch.rand(t, k, dtype=dtype, device=dev)
        w = torch.rand(k, o, dtype=dtype, device=dev)
        evict()
        t0 = time.perf_counter()
        torch.matmul(x, w)
        sync()
        first = time.perf_counter() - t0
        reps = min(max_reps, max(3, math.ceil(target / max(first, 1e-9))))
        times = []
        for _ in range(reps):
            evict()
            t0 = time.perf_counter()
            torch.matmul(x, w)
            sync()
            times.append(time.perf_counter() - t0)
        kernels.append({"kind": s[0], "tokens": t, "d_in": k, "d_out": o, "flops": flops(s),
                        "bytes": nbytes(s, element_bytes), "median_s": statistics.median(times),
                        "min_s": min(times), "max_s": max(times), "repetitions": reps})
    fit = fit_roofline(kernels)
    for k in kernels:
        k["predicted_s"] = roofline_time_s(fit, k["flops"], k["bytes"])
        k["error"] = k["predicted_s"] / k["median_s"] - 1
        k["table_predicted_s"] = table_time_s(fit, k["kind"], k["tokens"], k["flops"], k["bytes"])
    record: Dict[str, Any] = {
        "backend": "torch", "library": f"torch {torch.__version__} matmul", "precision": str(dtype).replace("torch.", ""),
        "device": name, "host": socket.gethostname(),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "stream_bytes_per_s": stream, "fit": fit, "kernels": kernels,
        # Beside the fit, as the C++ backend's JSON has it.
        "efficiency_table": fit.pop("efficiency_table")}
    if cuda:
        props = torch.cuda.get_device_properties(0)
        record["memory_bytes"] = int(props.total_memory)
        record["memory_bytes_how"] = f"torch.cuda.get_device_properties(0).total_memory of {name}, host {record['host']}"
        copies = []
        for size in [1 << p for p in range(10, 29, 2)]:  # 1 KiB to 256 MiB
            h = torch.empty(size, dtype=torch.uint8).pin_memory()
            d = torch.empty(size, dtype=torch.uint8, device=dev)
            d.copy_(h, non_blocking=False)
            times = []
            for _ in range(5):
                sync()
                t0 = time.perf_counter()
                d.copy_(h, non_blocking=False)
                sync()
                times.append(time.perf_counter() - t0)
            copies.append({"bytes": float(size), "median_s": statistics.median(times), "direction": "host_to_device"})
        record["link"] = {"copies": copies, "fit": fit_link(copies)}
    else:
        page = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 0
        pages = os.sysconf("SC_PHYS_PAGES") if hasattr(os, "sysconf") else 0
        if page > 0 and pages > 0:
            record["memory_bytes"] = int(page * pages)
            record["memory_bytes_how"] = f"physical pages times page size (sysconf), host {record['host']}"
    if progress:
        progress(total, total, "fit")
    record["seconds"] = time.perf_counter() - t_start
    return record


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(prog="python3 -m lorasplit.calibrate",
                                 description="Measure the LoRA kernels and the base GEMM with torch, fit the roofline, "
                                             "write a lorasplit hardware profile.")
    ap.add_argument("--quick", action="store_true", help="30 shapes, a few repetitions each")
    ap.add_argument("--device", default=None, help="cuda (default when a GPU is visible) or cpu")
    ap.add_argument("-o", "--output", default=None, help="write the profile to this TOML file")
    ap.add_argument("--side", default="gpu", choices=["gpu", "cxl"], help="the profile's table (default gpu)")
    ap.add_argument("--format", default="text", choices=["text", "json"], help="text (the report) or json")
    args = ap.parse_args(argv)
    if args.output:
        folder = os.path.dirname(os.path.abspath(args.output))
        if not os.access(folder, os.W_OK):
            print(f"lorasplit.calibrate: error: -o = '{args.output}': cannot write into the folder '{folder}'",
                  file=sys.stderr)
            return 4
    tty = sys.stderr.isatty()

    def bar(done: int, total: int, what: str) -> None:
        filled = done * 30 // max(total, 1)
        sys.stderr.write(f"\rcalibrate [{'#' * filled}{'.' * (30 - filled)}] {done}/{total} {what:<28}")
        sys.stderr.flush()

    try:
        import torch  # noqa: F401
    except ImportError as e:
        print(f"lorasplit.calibrate: error: the torch backend needs PyTorch (python3-torch): {e}", file=sys.stderr)
        return 2
    try:
        c = calibrate(quick=args.quick, device=args.device, progress=bar if tty else None)
    except (ValueError, RuntimeError) as e:
        print(f"lorasplit.calibrate: error: {str(e).splitlines()[0] if str(e) else type(e).__name__}", file=sys.stderr)
        return 2
    if tty:
        sys.stderr.write("\n")
    if args.output:
        tmp = args.output + ".tmp"
        try:
            with open(tmp, "w", encoding="utf-8") as f:
                f.write(profile_toml(c, args.side))
            os.replace(tmp, args.output)
        except OSError as e:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            print(f"lorasplit.calibrate: error: -o = '{args.output}': {e.strerror}", file=sys.stderr)
            return 4
    out = json.dumps(c, indent=2) + "\n" if args.format == "json" else report(c)
    if args.format == "text" and args.output:
        out += f"\nprofile written to {args.output} ([{args.side}]); use it as --{args.side} {args.output}\n"
    sys.stdout.write(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
