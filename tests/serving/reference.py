#!/usr/bin/env python3
"""Independent reference for the serving model (docs/model.md, section 9).

Written from the documentation alone, with exact rational arithmetic
(fractions.Fraction) throughout.  It

  * reads a serving config (TOML),
  * evaluates a plan by the formulas of 9.3 (item durations) and 9.4 (the
    max-of-paths stage time), and checks the memory rows of 9.5,
  * plays the same stage graph in a discrete-event simulation and asserts that
    every stage ends exactly at the formula's T_s,
  * finds the optimum by brute force over every split (tiny instances only) and
    computes the baselines gpu_hbm, gpu_fetch and device_all of 9.6.

Usage:
  python3 tests/serving/reference.py CONFIG.toml
  python3 tests/serving/reference.py --random SEED OUTDIR N
  python3 tests/serving/reference.py --selftest SEED N

Interpretation choices (where section 9 leaves room) are collected in
INTERPRETATION below; each can be switched by a module-level constant.
"""

import heapq
import itertools
import json
import math
import os
import random
import sys
import tomllib
from fractions import Fraction as Q

# --------------------------------------------------------------------------
# Interpretation choices
# --------------------------------------------------------------------------
# device_all: do adapters with weights = "both" go to path c ("their weights
# are on the device") or stay on g?  9.6 says "every token whose adapter's
# weights are on the device on path c (the others on g)".
DEVICE_ALL_BOTH_PATH = "c"
# gpu_hbm: only the GPU memory row decides whether it exists (9.6: "the memory
# row with all adapters in HBM decides whether it exists").
GPU_HBM_CHECKS_DEVICE_ROW = False

INTERPRETATION = {
    "device_all_both_path": DEVICE_ALL_BOTH_PATH,
    "gpu_hbm_checks_device_row": GPU_HBM_CHECKS_DEVICE_ROW,
    "activation_row_max_over": "projection stages only (qkv, o, gate_up, down)",
    "expand_gpu_runs": "when an adapter with modules in the stage has n_a > 0",
    "base_runs": "when T > 0",
    "attention_runs": "when T > 0 (also with C = 0)",
    "toml_float": "Fraction(repr(float)) (write exact decimals as strings instead)",
}

# --------------------------------------------------------------------------
# Shapes
# --------------------------------------------------------------------------
MODULES = ["q", "k", "v", "o", "gate", "up", "down"]
STAGES = ["qkv", "attention", "o", "gate_up", "down"]
STAGE_MODULES = {
    "qkv": ["q", "k", "v"],
    "attention": [],
    "o": ["o"],
    "gate_up": ["gate", "up"],
    "down": ["down"],
}
PROJ_STAGES = [s for s in STAGES if STAGE_MODULES[s]]
DTYPE_BYTES = {"float16": 2, "bfloat16": 2, "float32": 4}

PRESETS = {
    "llama-2-7b": (4096, 11008, 32, 32, 32, 128, "float16"),
    "llama-2-13b": (5120, 13824, 40, 40, 40, 128, "float16"),
    "llama-3-8b": (4096, 14336, 32, 32, 8, 128, "bfloat16"),
    "llama-3-70b": (8192, 28672, 80, 64, 8, 128, "bfloat16"),
    "mistral-7b": (4096, 14336, 32, 32, 8, 128, "bfloat16"),
    "qwen2.5-7b": (3584, 18944, 28, 28, 4, 128, "bfloat16"),
}

# --------------------------------------------------------------------------
# Number parsing
# --------------------------------------------------------------------------
_SI = {"": 1, "k": 10**3, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12,
       "P": 10**15, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}
_TIME_PREFIX = {"s": Q(1), "ms": Q(1, 10**3), "us": Q(1, 10**6), "ns": Q(1, 10**9)}


def _num(text):
    text = text.strip()
    if not text:
        raise ValueError("empty number")
    return Q(text)


def parse_quantity(value, unit=None):
    """A TOML integer, float or string ('N', 'N UNIT') -> Fraction.

    unit is one of None, 'FLOP/s', 'B/s', 's', 'B'."""
    if isinstance(value, bool):
        raise ValueError(f"boolean where a number is expected: {value!r}")
    if isinstance(value, int):
        return Q(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"not finite: {value!r}")
        return Q(repr(value))
    if not isinstance(value, str):
        raise ValueError(f"not a number: {value!r}")
    parts = value.strip().split()
    if len(parts) == 1:
        return _num(parts[0])
    if len(parts) != 2 or unit is None:
        raise ValueError(f"cannot read {value!r}")
    n, u = _num(parts[0]), parts[1]
    if unit == "s":
        if u in _TIME_PREFIX:
            return n * _TIME_PREFIX[u]
    else:
        for p, f in _SI.items():
            if u == p + unit:
                return n * f
    raise ValueError(f"unit of {value!r}: expected {unit}")


# --------------------------------------------------------------------------
# Config
# --------------------------------------------------------------------------
class Adapter:
    def __init__(self, name, rank, tokens, weights, modules):
        if weights not in ("gpu", "cxl", "both"):
            raise ValueError(f"adapter {name}: weights must be gpu, cxl or both")
        for m in modules:
            if m not in MODULES:
                raise ValueError(f"adapter {name}: unknown module {m!r}")
        if rank < 1 or tokens < 0:
            raise ValueError(f"adapter {name}: rank >= 1, tokens >= 0")
        self.name, self.rank, self.tokens = name, rank, tokens
        self.weights, self.modules = weights, list(dict.fromkeys(modules))


class Config:
    pass


def _int(v, what):
    if isinstance(v, bool) or not isinstance(v, int):
        raise ValueError(f"{what} must be an integer")
    return v


def _generate_adapters(sv):
    n = _int(sv["adapters"], "serving.adapters")
    ranks = sv.get("ranks", [8, 16, 32, 64])
    T = _int(sv["batch_tokens"], "serving.batch_tokens")
    pop = sv.get("popularity", "uniform")
    if pop == "uniform":
        w = [Q(1)] * n
    elif pop.startswith("zipf:"):
        S = Q(pop[5:])
        if S.denominator == 1:
            w = [Q(1, (i + 1) ** S.numerator) if S >= 0 else Q((i + 1) ** -S.numerator)
                 for i in range(n)]
        else:  # irrational weights: floating point (the docs do not say how)
            w = [Q((i + 1) ** -float(S)) for i in range(n)]
    else:
        raise ValueError(f"popularity {pop!r}")
    sw = sum(w)
    quota = [T * wi / sw for wi in w]
    counts = [math.floor(x) for x in quota]
    left = T - sum(counts)
    order = sorted(range(n), key=lambda i: (-(quota[i] - counts[i]), i))
    for i in order[:left]:
        counts[i] += 1
    weights = sv.get("weights", "cxl")
    modules = sv.get("modules", MODULES)
    return [Adapter(f"a{i}", ranks[i % len(ranks)], counts[i], weights, modules)
            for i in range(n)]


def load_config(path):
    with open(path, "rb") as fh:
        doc = tomllib.load(fh)
    return config_from_doc(doc, os.path.dirname(os.path.abspath(path)))


def config_from_doc(doc, base_dir="."):
    cfg = Config()
    model = doc.get("model", {}).get("name", "serving")
    if model != "serving":
        raise ValueError(f"model.name = {model!r}, expected serving")

    def hw(table, key, unit, default=None, required=True):
        t = doc.get(table, {})
        if key not in t:
            if default is not None or not required:
                return default
            raise ValueError(f"missing {table}.{key}")
        return parse_quantity(t[key], unit)

    cfg.flops_g = hw("gpu", "flops", "FLOP/s")
    cfg.eff_g = hw("gpu", "efficiency", None, Q(1))
    cfg.W_g = hw("gpu", "memory_bandwidth_bytes_per_s", "B/s")
    cfg.o_g = hw("gpu", "kernel_overhead_s", "s", Q(0))
    cfg.M_g = hw("gpu", "memory_bytes", "B")
    cfg.flops_c = hw("cxl", "flops", "FLOP/s")
    cfg.eff_c = hw("cxl", "efficiency", None, Q(1))
    cfg.W_c = hw("cxl", "memory_bandwidth_bytes_per_s", "B/s")
    cfg.o_c = hw("cxl", "kernel_overhead_s", "s", Q(0))
    cfg.M_c = hw("cxl", "memory_bytes", "B", required=False)
    cfg.BW = hw("link", "bandwidth_bytes_per_s", "B/s")
    cfg.lam = hw("link", "latency_s", "s", Q(0))
    duplex = doc.get("link", {}).get("duplex", "full")
    if duplex != "full":
        raise ValueError("link.duplex = shared is refused by the serving model")
    cfg.F_g = cfg.flops_g * cfg.eff_g
    cfg.F_c = cfg.flops_c * cfg.eff_c
    for name in ("F_g", "F_c", "W_g", "W_c", "BW"):
        if getattr(cfg, name) <= 0:
            raise ValueError(f"{name} must be positive")
    for name in ("o_g", "o_c", "lam"):
        if getattr(cfg, name) < 0:
            raise ValueError(f"{name} must be >= 0")

    tr = doc["transformer"]
    if "preset" in tr:
        h, f, L, nh, nkv, hd, dtype = PRESETS[tr["preset"]]
    elif "hf_config" in tr:
        p = tr["hf_config"]
        if not os.path.isabs(p):
            p = os.path.join(base_dir, p)
        with open(p) as fh:
            hf = json.load(fh)
        h, f, L = hf["hidden_size"], hf["intermediate_size"], hf["num_hidden_layers"]
        nh = hf["num_attention_heads"]
        nkv = hf.get("num_key_value_heads", nh)
        hd = hf.get("head_dim") or h // nh
        dtype = hf["torch_dtype"]
    else:
        h = _int(tr["hidden_size"], "hidden_size")
        f = _int(tr["intermediate_size"], "intermediate_size")
        L = _int(tr["num_hidden_layers"], "num_hidden_layers")
        nh = _int(tr["num_attention_heads"], "num_attention_heads")
        nkv = _int(tr.get("num_key_value_heads", nh), "num_key_value_heads")
        if "head_dim" in tr:
            hd = _int(tr["head_dim"], "head_dim")
        else:
            if h % nh:
                raise ValueError("hidden_size not divisible by num_attention_heads")
            hd = h // nh
        dtype = tr.get("dtype", "float16")
    cfg.h, cfg.f, cfg.L, cfg.nh, cfg.nkv, cfg.hd = h, f, L, nh, nkv, hd
    cfg.e = DTYPE_BYTES[dtype]
    cfg.dims = {
        "q": (h, nh * hd), "k": (h, nkv * hd), "v": (h, nkv * hd),
        "o": (nh * hd, h), "gate": (h, f), "up": (h, f), "down": (f, h),
    }
    for s in PROJ_STAGES:
        dins = {cfg.dims[m][0] for m in STAGE_MODULES[s]}
        assert len(dins) == 1, s
    cfg.din_s = {s: cfg.dims[STAGE_MODULES[s][0]][0] for s in PROJ_STAGES}

    sv = doc.get("serving", {})
    if "context_tokens" not in sv:
        raise ValueError("serving.context_tokens is required")
    cfg.C = _int(sv["context_tokens"], "serving.context_tokens")
    if sv.get("mode", "batch") != "batch":
        raise ValueError("only serving.mode = batch")
    if "adapters" in doc:
        cfg.adapters = [
            Adapter(a["name"], _int(a["rank"], "rank"), _int(a["tokens"], "tokens"),
                    a["weights"], a.get("modules", MODULES))
            for a in doc["adapters"]
        ]
    elif "adapters" in sv:
        cfg.adapters = _generate_adapters(sv)
    else:
        raise ValueError("no adapters")
    names = [a.name for a in cfg.adapters]
    if len(set(names)) != len(names):
        raise ValueError("duplicate adapter names")
    cfg.T = sum(a.tokens for a in cfg.adapters)
    if cfg.T == 0:
        raise ValueError("the batch has no tokens (T = 0): throughput undefined")
    return cfg


# --------------------------------------------------------------------------
# Work per adapter and stage (9.2)
# --------------------------------------------------------------------------
def work(cfg, a, s):
    """(SA, SB, R, O, I) of adapter a in stage s, or None when M_as is empty."""
    ms = [m for m in STAGE_MODULES[s] if m in a.modules]
    if not ms:
        return None
    r = a.rank
    SA = sum(cfg.dims[m][0] * r for m in ms)
    SB = sum(r * cfg.dims[m][1] for m in ms)
    R = len(ms) * r
    O = sum(cfg.dims[m][1] for m in ms)
    I = len(ms) * cfg.din_s[s]
    return SA, SB, R, O, I


def adapters_with_work(cfg, s):
    return [a for a in cfg.adapters if work(cfg, a, s) is not None]


# --------------------------------------------------------------------------
# Items of a stage (9.3)
# --------------------------------------------------------------------------
ITEM_RESOURCE = {
    "base": "gpu", "shrink_gpu": "gpu", "expand_gpu": "gpu",
    "shrink_cxl": "dev", "expand_cxl": "dev",
    "fetch": "to_gpu", "y_back": "to_gpu", "z_back": "to_gpu",
    "x_in": "to_dev",
}
TRANSFERS = ("fetch", "y_back", "z_back", "x_in")


def kernel_time(cfg, side, runs, flops, nbytes):
    if not runs:
        return Q(0)
    F, W, o = (cfg.F_g, cfg.W_g, cfg.o_g) if side == "gpu" else (cfg.F_c, cfg.W_c, cfg.o_c)
    return o + max(Q(flops) / F, Q(nbytes) / W)


def stage_items(cfg, s, plan_s, weights_override=None):
    """Item table of stage s: name -> dict(runs, flops, bytes, duration, latency)."""
    e, T = cfg.e, cfg.T
    wt = (lambda a: weights_override) if weights_override else (lambda a: a.weights)
    items = {}
    if s == "attention":
        C, nh, nkv, hd = cfg.C, cfg.nh, cfg.nkv, cfg.hd
        fl = 4 * T * C * nh * hd
        by = e * T * (2 * C * nkv * hd + 2 * nkv * hd + 2 * nh * hd)
        runs = T > 0
        items["attention"] = dict(runs=runs, flops=fl, bytes=by,
                                  duration=kernel_time(cfg, "gpu", runs, fl, by),
                                  latency=Q(0))
        return items

    ms = STAGE_MODULES[s]
    din_s = cfg.din_s[s]
    base_fl = 2 * T * sum(cfg.dims[m][0] * cfg.dims[m][1] for m in ms)
    base_by = e * (sum(cfg.dims[m][0] * cfg.dims[m][1] for m in ms)
                   + T * (din_s + sum(cfg.dims[m][1] for m in ms)))

    acc = dict(sg_fl=0, sg_by=0, eg_fl=0, eg_by=0, sc_fl=0, sc_by=0, ec_fl=0, ec_by=0,
               fetch=0, x_in=0, y_back=0, z_back=0, g=0, p=0, c=0, n=0)
    for a in adapters_with_work(cfg, s):
        SA, SB, R, O, I = work(cfg, a, s)
        g, p, c = plan_s[a.name]
        assert min(g, p, c) >= 0 and g + p + c == a.tokens, (s, a.name, plan_s[a.name])
        if wt(a) == "gpu":
            assert p == 0 and c == 0, f"adapter {a.name} has weights only on the GPU"
        uGA, uGB, uDA, uDB = int(g > 0), int(g + p > 0), int(p + c > 0), int(c > 0)
        acc["sg_fl"] += 2 * SA * g
        acc["sg_by"] += e * (uGA * SA + g * (I + R))
        acc["eg_fl"] += 2 * SB * (g + p) + O * c
        acc["eg_by"] += e * (uGB * SB + (g + p) * (R + 2 * O) + c * 3 * O)
        acc["sc_fl"] += 2 * SA * (p + c)
        acc["sc_by"] += e * (uDA * SA + (p + c) * (I + R))
        acc["ec_fl"] += 2 * SB * c
        acc["ec_by"] += e * (uDB * SB + c * (R + O))
        if wt(a) == "cxl":
            acc["fetch"] += e * (uGA * SA + uGB * SB)
        acc["x_in"] += e * din_s * (p + c)
        acc["y_back"] += e * R * p
        acc["z_back"] += e * O * c
        acc["g"] += g
        acc["p"] += p
        acc["c"] += c
        acc["n"] += a.tokens

    def kern(name, side, runs, fl, by):
        items[name] = dict(runs=bool(runs), flops=fl, bytes=by,
                           duration=kernel_time(cfg, side, runs, fl, by), latency=Q(0))

    kern("base", "gpu", T > 0, base_fl, base_by)
    kern("shrink_gpu", "gpu", acc["g"] > 0, acc["sg_fl"], acc["sg_by"])
    kern("expand_gpu", "gpu", acc["n"] > 0, acc["eg_fl"], acc["eg_by"])
    kern("shrink_cxl", "dev", acc["p"] + acc["c"] > 0, acc["sc_fl"], acc["sc_by"])
    kern("expand_cxl", "dev", acc["c"] > 0, acc["ec_fl"], acc["ec_by"])
    for t in TRANSFERS:
        by = acc[t]
        runs = by > 0
        items[t] = dict(runs=runs, flops=0, bytes=by,
                        # every transfer reads or writes the device's memory (section 9.3)
                        duration=Q(by) / min(cfg.BW, cfg.W_c) if runs else Q(0),
                        latency=cfg.lam if runs else Q(0))
    # consistency of "runs" between the kernel rules and the byte counts
    assert items["x_in"]["runs"] == items["shrink_cxl"]["runs"]
    assert items["y_back"]["runs"] == (acc["p"] > 0)
    assert items["z_back"]["runs"] == items["expand_cxl"]["runs"]
    return items


def stage_time_formula(s, items):
    """T_s by the max-of-paths formula of 9.4."""
    if s == "attention":
        return items["attention"]["duration"]
    d = {k: v["duration"] for k, v in items.items()}
    lf, ly, lz, lx = (items[k]["latency"] for k in ("fetch", "y_back", "z_back", "x_in"))
    return max(
        d["base"] + d["shrink_gpu"] + d["expand_gpu"],
        d["fetch"] + lf + d["shrink_gpu"] + d["expand_gpu"],
        d["fetch"] + d["y_back"] + ly + d["expand_gpu"],
        d["x_in"] + lx + d["shrink_cxl"] + d["y_back"] + ly + d["expand_gpu"],
        d["fetch"] + d["y_back"] + d["z_back"] + lz + d["expand_gpu"],
        d["x_in"] + lx + d["shrink_cxl"] + d["y_back"] + d["z_back"] + lz + d["expand_gpu"],
        d["x_in"] + lx + d["shrink_cxl"] + d["expand_cxl"] + d["z_back"] + lz + d["expand_gpu"],
    )


# --------------------------------------------------------------------------
# Discrete-event simulation (independent of the path formula)
# --------------------------------------------------------------------------
RESOURCE_ORDER = {
    "gpu": ["base", "shrink_gpu", "expand_gpu"],
    "dev": ["shrink_cxl", "expand_cxl"],
    "to_gpu": ["fetch", "y_back", "z_back"],
    "to_dev": ["x_in"],
}
# consumer <- producers (data dependencies)
DATA_DEPS = {
    "shrink_gpu": ["fetch"],
    "expand_gpu": ["fetch", "y_back", "z_back"],
    "shrink_cxl": ["x_in"],
    "y_back": ["shrink_cxl"],
    "z_back": ["expand_cxl"],
}


def simulate_stage(s, items, t0):
    """Play the items that run, event by event, from time t0.

    Only items that run take part (a non-running item neither holds its
    resource nor passes a dependency on).  A resource serves its items in the
    fixed order; an item starts when its resource is free and the data of every
    running producer has arrived (a transfer's data arrives latency after its
    last byte; a kernel's output is there when it ends).  Returns
    (stage end, {item: (start, end)})."""
    if s == "attention":
        it = items["attention"]
        return t0 + it["duration"], {"attention": (t0, t0 + it["duration"])}
    running = {k for k, v in items.items() if v["runs"]}
    queues = {r: [k for k in order if k in running] for r, order in RESOURCE_ORDER.items()}
    busy = {r: False for r in queues}
    pending = {k: {p for p in DATA_DEPS.get(k, []) if p in running} for k in running}
    consumers = {k: [c for c, ps in DATA_DEPS.items() if k in ps and c in running]
                 for k in running}
    events = []  # (time, seq, kind, payload)
    seq = itertools.count()
    spans = {}

    def try_start(now):
        for r, q in queues.items():
            if busy[r] or not q:
                continue
            k = q[0]
            if pending[k]:
                continue
            q.pop(0)
            busy[r] = True
            end = now + items[k]["duration"]
            spans[k] = (now, end)
            heapq.heappush(events, (end, next(seq), "end", k))

    try_start(t0)
    now = t0
    while events:
        now, _, kind, payload = heapq.heappop(events)
        if kind == "end":
            k = payload
            busy[ITEM_RESOURCE[k]] = False
            for c in consumers[k]:
                heapq.heappush(events, (now + items[k]["latency"], next(seq), "data", (k, c)))
        else:
            k, c = payload
            pending[c].discard(k)
        try_start(now)
    assert all(not q for q in queues.values()), "deadlock in the stage graph"
    end = max([sp[1] for sp in spans.values()], default=t0)
    if "expand_gpu" in spans:
        assert spans["expand_gpu"][1] == end
    return end, spans


# --------------------------------------------------------------------------
# Memory rows (9.5)
# --------------------------------------------------------------------------
def memory_rows(cfg, weights_override=None):
    e, L, T = cfg.e, cfg.L, cfg.T
    wt = (lambda a: weights_override) if weights_override else (lambda a: a.weights)
    base = e * L * sum(din * dout for din, dout in cfg.dims.values())
    kv = e * L * 2 * cfg.nkv * cfg.hd * cfg.C * T

    def ab(a, s):
        w = work(cfg, a, s)
        return 0 if w is None else w[0] + w[1]

    resident = e * L * sum(ab(a, s) for a in cfg.adapters if wt(a) in ("gpu", "both")
                           for s in STAGES)
    fetch_buf = e * max(sum(ab(a, s) for a in cfg.adapters if wt(a) == "cxl")
                        for s in STAGES)
    act = e * T * max(cfg.din_s[s] + sum(cfg.dims[m][1] for m in STAGE_MODULES[s])
                      for s in PROJ_STAGES)
    gpu = base + kv + resident + fetch_buf + act
    dev = e * L * sum(ab(a, s) for a in cfg.adapters if wt(a) in ("cxl", "both")
                      for s in STAGES)  # 9.5: the device's activation buffers are not counted
    rows = {"gpu": {"bytes": gpu, "capacity": cfg.M_g, "ok": gpu <= cfg.M_g,
                    "parts": dict(base=base, kv=kv, resident=resident,
                                  fetch_buffer=fetch_buf, activations=act)}}
    if cfg.M_c is not None:
        rows["device"] = {"bytes": dev, "capacity": cfg.M_c, "ok": dev <= cfg.M_c}
    else:
        rows["device"] = {"bytes": dev, "capacity": None, "ok": True}
    return rows


# --------------------------------------------------------------------------
# Evaluation of a plan
# --------------------------------------------------------------------------
def evaluate(cfg, plan, weights_override=None, check_device_row=True):
    """plan: stage -> adapter name -> (g, p, c).  Stages or adapters without
    work may be left out.  Returns a dict with per-stage times (formula, and
    the simulation asserted equal), the iteration time, the throughput and the
    memory rows."""
    stage_T = {}
    stage_items_all = {}
    for s in STAGES:
        ps = plan.get(s, {})
        items = stage_items(cfg, s, ps, weights_override)
        Ts = stage_time_formula(s, items)
        end, _ = simulate_stage(s, items, Q(0))
        assert end == Ts, f"stage {s}: simulation {end} != formula {Ts}"
        stage_T[s] = Ts
        stage_items_all[s] = items
    T_iter = cfg.L * sum(stage_T.values())
    # whole iteration, event by event, stage after stage, layer after layer
    t = Q(0)
    for _ in range(cfg.L):
        for s in STAGES:
            t, _ = simulate_stage(s, stage_items_all[s], t)
    assert t == T_iter, f"simulated iteration {t} != formula {T_iter}"
    rows = memory_rows(cfg, weights_override)
    feasible = rows["gpu"]["ok"] and (rows["device"]["ok"] or not check_device_row)
    thr = Q(cfg.T) / T_iter if T_iter > 0 else None
    return dict(stage_times=stage_T, items=stage_items_all, iteration_time=T_iter,
                throughput=thr, memory=rows, feasible=feasible)


def splits(n):
    for g in range(n + 1):
        for p in range(n + 1 - g):
            yield (g, p, n - g - p)


def uniform_plan(cfg, path_of):
    """path_of(adapter) -> 'g' | 'p' | 'c'; every token of the adapter on it."""
    plan = {}
    for s in PROJ_STAGES:
        plan[s] = {}
        for a in adapters_with_work(cfg, s):
            k = path_of(a)
            plan[s][a.name] = (a.tokens if k == "g" else 0, a.tokens if k == "p" else 0,
                               a.tokens if k == "c" else 0)
    return plan


def optimum(cfg):
    """Brute force: every split of every adapter in every stage.  Stages share
    nothing, so the least T_iter is L times the sum of the per-stage minima;
    within a stage every combination of splits is evaluated (and simulated)."""
    best_plan = {}
    stage_T = {}
    evaluated = 0
    for s in PROJ_STAGES:
        aw = adapters_with_work(cfg, s)
        choices = [list(splits(a.tokens)) if a.weights != "gpu" else [(a.tokens, 0, 0)]
                   for a in aw]
        best = None
        for combo in itertools.product(*choices):
            ps = {a.name: sp for a, sp in zip(aw, combo)}
            items = stage_items(cfg, s, ps)
            Ts = stage_time_formula(s, items)
            end, _ = simulate_stage(s, items, Q(0))
            assert end == Ts, f"stage {s} plan {ps}: simulation {end} != formula {Ts}"
            evaluated += 1
            if best is None or Ts < best[0]:
                best = (Ts, ps)
        stage_T[s], best_plan[s] = best
    res = evaluate(cfg, best_plan)
    for s in PROJ_STAGES:
        assert res["stage_times"][s] == stage_T[s]
    res["plan"] = best_plan
    res["evaluated"] = evaluated
    return res


def baselines(cfg):
    out = {}
    hbm = evaluate(cfg, uniform_plan(cfg, lambda a: "g"), weights_override="gpu",
                   check_device_row=GPU_HBM_CHECKS_DEVICE_ROW)
    out["gpu_hbm"] = hbm
    out["gpu_fetch"] = evaluate(cfg, uniform_plan(cfg, lambda a: "g"))

    def dev_path(a):
        if a.weights == "cxl":
            return "c"
        if a.weights == "both":
            return DEVICE_ALL_BOTH_PATH
        return "g"
    out["device_all"] = evaluate(cfg, uniform_plan(cfg, dev_path))
    return out


# --------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------
def fr(x):
    return None if x is None else str(x)


def failed_rows(rows, check_device=True):
    bad = [k for k in ("gpu", "device") if not rows[k]["ok"]]
    if not check_device:
        bad = [k for k in bad if k == "gpu"]
    return bad


def solve(cfg):
    opt = optimum(cfg)
    base = baselines(cfg)
    out = {}
    if opt["feasible"]:
        assert opt["iteration_time"] <= base["gpu_fetch"]["iteration_time"]
        assert opt["iteration_time"] <= base["device_all"]["iteration_time"]
        out["status"] = "optimal"
        out["iteration_time_s_exact"] = fr(opt["iteration_time"])
        out["throughput_tokens_per_s_exact"] = fr(opt["throughput"])
        gf = base["gpu_fetch"]
        out["gain_percent_exact"] = fr(100 * (opt["throughput"] / gf["throughput"] - 1))
        hb = base["gpu_hbm"]
        out["gain_over_gpu_hbm_percent_exact"] = (
            fr(100 * (opt["throughput"] / hb["throughput"] - 1)) if hb["feasible"] else None)
    else:
        out["status"] = "infeasible"
        out["reason"] = "memory row fails: " + ", ".join(failed_rows(opt["memory"]))
        out["iteration_time_s_exact"] = None
        out["throughput_tokens_per_s_exact"] = None
    out["baselines"] = {}
    for k, b in base.items():
        d = {"status": "optimal" if b["feasible"] else "infeasible",
             "iteration_time_s_exact": fr(b["iteration_time"]) if b["feasible"] else None,
             "throughput_tokens_per_s_exact": fr(b["throughput"]) if b["feasible"] else None}
        if not b["feasible"]:
            d["reason"] = "memory row fails: " + ", ".join(
                failed_rows(b["memory"], k != "gpu_hbm" or GPU_HBM_CHECKS_DEVICE_ROW))
        out["baselines"][k] = d
    # diagnostics (not part of the contract)
    out["plan"] = [{"adapter": a, "stage": s, "path": k, "tokens": n}
                   for s in PROJ_STAGES for a, gpc in opt["plan"][s].items()
                   for k, n in zip("gpc", gpc) if n > 0]
    out["stages"] = {s: {"time_s_exact": fr(opt["stage_times"][s]),
                         "items": {k: {"duration_s_exact": fr(v["duration"]),
                                       "flops": v["flops"], "bytes": v["bytes"]}
                                   for k, v in opt["items"][s].items() if v["runs"]}}
                     for s in STAGES}
    out["memory_bytes"] = {
        "gpu": opt["memory"]["gpu"]["bytes"], "gpu_capacity": fr(cfg.M_g),
        "device": opt["memory"]["device"]["bytes"],
        "device_capacity": fr(cfg.M_c) if cfg.M_c is not None else None}
    out["evaluated_plans"] = opt["evaluated"]
    return out


# --------------------------------------------------------------------------
# Random tiny configs
# --------------------------------------------------------------------------
def _dec(x):
    """Fraction with a finite decimal expansion -> decimal string."""
    x = Q(x)
    if x.denominator == 1:
        return str(x.numerator)
    for k in range(1, 12):
        if (x * 10 ** k).denominator == 1:
            n = x * 10 ** k
            s = f"{abs(n.numerator):0{k + 1}d}"
            return ("-" if x < 0 else "") + s[:-k] + "." + s[-k:]
    raise ValueError(f"{x} is not a finite decimal")


def _hw_value(rng, x, unit):
    """Write x as a bare number, a decimal string or a string with its unit."""
    d = _dec(x)
    r = rng.random()
    if r < 0.3 and Q(x).denominator == 1:
        return d
    if r < 0.55 or unit is None:
        return f'"{d}"'
    return f'"{d} {unit}"'


def random_config_text(rng):
    nh = rng.choice([1, 2])
    h = rng.choice([x for x in (2, 3, 4) if x % nh == 0])
    nkv = rng.choice([d for d in (1, 2) if nh % d == 0])
    f = rng.randint(2, 6)
    L = rng.randint(1, 2)
    explicit_hd = rng.random() < 0.2
    hd = rng.randint(1, 3) if explicit_hd else h // nh
    dtype = rng.choice(["float16", "bfloat16", "float32"])
    C = rng.randint(0, 2)
    nad = rng.randint(1, 3)
    ads = []
    for i in range(nad):
        mods = [m for m in MODULES if rng.random() < 0.4] or [rng.choice(MODULES)]
        all_mods = rng.random() < 0.15
        ads.append(dict(name=f"ad{i}", rank=rng.randint(1, 2),
                        tokens=rng.randint(0, 3 if nad < 3 else 2),
                        weights=rng.choice(["gpu", "cxl", "cxl", "both"]),
                        modules=None if all_mods else mods))
    if sum(a["tokens"] for a in ads) == 0:
        ads[0]["tokens"] = 1
    flops_g = rng.choice([Q(16), Q(32), Q(64), Q(100), Q(128), Q(200)])
    flops_c = rng.choice([Q(4), Q(8), Q(10), Q(16), Q(32), Q(50)])
    eff_g = rng.choice([None, Q(1), Q(1, 2), Q(4, 5), Q(3, 4)])
    eff_c = rng.choice([None, Q(1), Q(1, 2), Q(2, 5)])
    W_g = rng.choice([Q(8), Q(16), Q(32), Q(50), Q(64), Q(100)])
    W_c = rng.choice([Q(4), Q(8), Q(16), Q(20), Q(32)])
    o_g = rng.choice([Q(0), Q(0), Q(1, 4), Q(1, 2), Q(1), Q(1, 10)])
    o_c = rng.choice([Q(0), Q(0), Q(1, 4), Q(1, 2), Q(1), Q(2)])
    BW = rng.choice([Q(2), Q(4), Q(8), Q(16), Q(32), Q(5, 2)])
    lam = rng.choice([Q(0), Q(0), Q(1, 4), Q(1, 2), Q(1), Q(2)])

    def adapter_toml(a):
        lines = ["[[adapters]]", f'name = "{a["name"]}"', f'rank = {a["rank"]}',
                 f'tokens = {a["tokens"]}', f'weights = "{a["weights"]}"']
        if a["modules"] is not None:
            lines.append("modules = [" + ", ".join(f'"{m}"' for m in a["modules"]) + "]")
        return "\n".join(lines)

    shape = [f"hidden_size = {h}", f"intermediate_size = {f}", f"num_hidden_layers = {L}",
             f"num_attention_heads = {nh}", f"num_key_value_heads = {nkv}"]
    if explicit_hd:
        shape.append(f"head_dim = {hd}")
    shape.append(f'dtype = "{dtype}"')
    
    # compute the memory rows to size the capacities around them
    def text(M_g, M_c):
        g = ["[gpu]", f"flops = {_hw_value(rng, flops_g, 'FLOP/s')}"]
        if eff_g is not None:
            g.append(f"efficiency = {_hw_value(rng, eff_g, None)}")
        g += [f"memory_bandwidth_bytes_per_s = {_hw_value(rng, W_g, 'B/s')}",
              f"kernel_overhead_s = {_hw_value(rng, o_g, 's')}",
              f"memory_bytes = {_hw_value(rng, M_g, 'B')}"]
        c = ["[cxl]", f"flops = {_hw_value(rng, flops_c, 'FLOP/s')}"]
        if eff_c is not None:
            c.append(f"efficiency = {_hw_value(rng, eff_c, None)}")
        c += [f"memory_bandwidth_bytes_per_s = {_hw_value(rng, W_c, 'B/s')}",
              f"kernel_overhead_s = {_hw_value(rng, o_c, 's')}"]
        if M_c is not None:
            c.append(f"memory_bytes = {_hw_value(rng, M_c, 'B')}")
        ln = ["[link]", f"bandwidth_bytes_per_s = {_hw_value(rng, BW, 'B/s')}",
              f"latency_s = {_hw_value(rng, lam, 's')}"]
        parts = ['[model]\nname = "serving"', "\n".join(g), "\n".join(c), "\n".join(ln),
                 "[transformer]\n" + "\n".join(shape),
                 f"[serving]\ncontext_tokens = {C}"]
        parts += [adapter_toml(a) for a in ads]
        return "\n\n".join(parts) + "\n"

    probe = config_from_doc(tomllib.loads(text(Q(10**9), Q(10**9))))
    rows = memory_rows(probe)
    need_g, need_c = rows["gpu"]["bytes"], rows["device"]["bytes"]
    r = rng.random()
    M_g = need_g + (0 if r < 0.15 else rng.randint(1, 1000)) if r < 0.9 else need_g - 1
    r = rng.random()
    if r < 0.35:
        M_c = None
    elif r < 0.93:
        M_c = need_c + rng.choice([0, 1, 500])
    else:
        M_c = need_c - 1
    if M_c is not None and M_c < 1:  # cxl.memory_bytes is at least 1 B
        M_c = None if need_c == 0 else Q(1)
    return text(M_g, M_c)


def write_random(seed, outdir, n):
    rng = random.Random(seed)
    os.makedirs(outdir, exist_ok=True)
    paths = []
    for k in range(n):
        p = os.path.join(outdir, f"case_{k}.toml")
        with open(p, "w") as fh:
            fh.write(f"# random serving case {k} (seed {seed}), tests/serving/reference.py\n")
            fh.write(random_config_text(rng))
        paths.append(p)
    return paths


# --------------------------------------------------------------------------
# Self-test: formula == simulation on every plan, and a full product brute
# force (no per-stage decomposition) on the smallest cases
# --------------------------------------------------------------------------
def full_product_optimum(cfg, limit=1500):
    per_stage = []
    for s in PROJ_STAGES:
        aw = adapters_with_work(cfg, s)
        choices = [list(splits(a.tokens)) if a.weights != "gpu" else [(a.tokens, 0, 0)]
                   for a in aw]
        per_stage.append([(s, {a.name: sp for a, sp in zip(aw, combo)})
                          for combo in itertools.product(*choices)])
    total = math.prod(len(x) for x in per_stage)
    if total > limit:
        return None
    best = None
    for combo in itertools.product(*per_stage):
        plan = dict(combo)
        t = evaluate(cfg, plan)["iteration_time"]
        best = t if best is None else min(best, t)
    return best


def selftest(seed, n):
    import tempfile
    import time
    with tempfile.TemporaryDirectory() as d:
        paths = write_random(seed, d, n)
        for p in paths:
            t0 = time.time()
            cfg = load_config(p)
            out = solve(cfg)
            dt = time.time() - t0
            opt = optimum(cfg)
            fp = full_product_optimum(cfg)
            if fp is not None:
                assert fp == opt["iteration_time"], (p, fp, opt["iteration_time"])
            print(f"{os.path.basename(p)}: {out['status']:10s} T_iter={out['iteration_time_s_exact']} "
                  f"fetch={out['baselines']['gpu_fetch']['iteration_time_s_exact']} "
                  f"hbm={out['baselines']['gpu_hbm']['iteration_time_s_exact']} "
                  f"dev={out['baselines']['device_all']['iteration_time_s_exact']} "
                  f"plans={out['evaluated_plans']} full={'yes' if fp is not None else 'no'} "
                  f"{dt:.2f}s")


def main(argv):
    if len(argv) == 2 and not argv[1].startswith("--"):
        cfg = load_config(argv[1])
        out = solve(cfg)
        print(json.dumps(out, indent=2))
        return 0 if out["status"] == "optimal" else 1
    if len(argv) == 5 and argv[1] == "--random":
        for p in write_random(int(argv[2]), argv[3], int(argv[4])):
            print(p)
        return 0
    if len(argv) == 4 and argv[1] == "--selftest":
        selftest(int(argv[2]), int(argv[3]))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
