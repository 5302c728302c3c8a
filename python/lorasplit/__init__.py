"""lorasplit: exact, certified GPU/CXL splits of a LoRA batch, from Python.

Units: every time is in seconds (s), every size in bytes (B), every rate in FLOP/s or
B/s, throughput in tokens/s, gains in percent. Parameter values may be numbers or strings
with units, exactly as on the command line: ``{"link.latency_s": "200 ns",
"gpu.memory_bytes": "16 GiB", "lora.r": 8}``. Numbers are read as exact decimals (a float
is taken at its shortest repr, so ``15.7e12`` means 157*10^11). Bad input raises
``ValueError`` with the CLI's one-line message. Exact values are ``fractions.Fraction``.

    >>> import lorasplit
    >>> r = lorasplit.solve(preset="seed")
    >>> (r.b1, r.b2, r.b3)
    (8323128, 0, 17817)
    >>> r.throughput_tokens_per_s_exact
    Fraction(21313938232421875, 11097504)
"""

from __future__ import annotations

import dataclasses
import enum
import json
from decimal import Decimal
from fractions import Fraction
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

try:
    from . import _lorasplit
except ImportError as _missing:  # lorasplit.calibrate (the torch backend) runs without the compiled part

    class _Unbuilt:
        def __init__(self, error: ImportError) -> None:
            self._error = error

        def __getattr__(self, name: str) -> Any:
            raise ImportError(f"lorasplit's compiled module is not built ({self._error}); only lorasplit.calibrate "
                              "runs without it")

    _lorasplit = _Unbuilt(_missing)  # type: ignore[assignment]

__all__ = ["Domain", "Model", "Result", "Timeline", "Breakeven", "PlanCheck", "FrontierPoint", "solve", "sweep",
           "simulate", "simulate_serving", "compare_serving", "presets", "params", "breakeven", "compare", "check", "explain", "pareto", "export_lp",
           "ServingResult", "serving", "Sweep", "ShardError"]

ParamValue = Union[int, float, str, Decimal, Fraction]


class Domain(str, enum.Enum):
    """The set the batch sizes b1, b2, b3 range over."""

    INTEGER = "integer"  #: whole numbers (multiples of lora.block_tokens)
    BINARY = "binary"  #: 0 or one block each, as the formulation's text says
    CONTINUOUS = "continuous"  #: real numbers: the LP relaxation, an upper bound


class Model(str, enum.Enum):
    """The performance model (docs/model.md)."""

    SEED = "seed"  #: the formulation as written
    PIPELINE = "pipeline"  #: its physics made consistent; switches pipeline.*, link.duplex, lora.weights
    SERVING = "serving"  #: a transformer's LoRA adapters (docs/model.md section 9): use serving()


def _text(key: str, value: ParamValue) -> str:
    if isinstance(value, bool):  # the on/off switches of the pipeline model
        return "on" if value else "off"
    if isinstance(value, Fraction):
        if value.denominator == 1:
            return str(value.numerator)
        d = Decimal(value.numerator) / Decimal(value.denominator)
        if Fraction(d) != value:
            raise ValueError(f"{key} = '{value}': not an exact decimal; write it as a decimal")
        return str(d)
    if isinstance(value, float):
        return repr(value)  # shortest decimal that round-trips: what the user wrote
    return str(value)


def _params(params: Optional[Mapping[str, ParamValue]]) -> List[tuple]:
    return [(k, _text(k, v)) for k, v in (params or {}).items()]


def _model(model: Union["Model", str, None]) -> List[tuple]:
    """The model.name assignment for ``model`` (none: keep the preset's and params')."""
    if model is None:
        return []
    name = str(getattr(model, "value", model))
    if name not in [m.value for m in Model]:
        raise ValueError(f"model = '{name}': unknown model (available: seed, pipeline)")
    return [("model.name", name)]


def _fractions(v: Any) -> Any:
    """Every "p/q" string inside v (a string, list or dict) as a Fraction."""
    if isinstance(v, str):
        return v if v in ("none", "") else Fraction(v)
    if isinstance(v, list):
        return [_fractions(x) for x in v]
    if isinstance(v, dict):
        return {k: _fractions(x) for k, x in v.items()}
    return v


def _exact(obj: Any) -> Any:
    """JSON object -> Python: values under keys ending in _exact become Fractions."""
    if isinstance(obj, dict):
        return {k: (_fractions(v) if k.endswith("_exact") else _exact(v)) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_exact(v) for v in obj]
    return obj


def _domain(domain: Union["Domain", str]) -> str:
    try:
        return Domain(domain).value
    except ValueError:
        raise ValueError(f"domain = '{domain}': expected 'integer', 'binary' or 'continuous'") from None


class _Record:
    """Base of the typed results: one dataclass field per documented JSON field of the
    matching CLI command (``X`` a float, ``X_exact`` its exact ``Fraction``: one convention
    everywhere), the whole JSON object in ``to_dict()``, and any field added later still
    readable as an attribute."""

    _json: Dict[str, Any]

    @classmethod
    def from_json(cls, data: Dict[str, Any]):
        names = [f.name for f in dataclasses.fields(cls) if not f.name.startswith("_")]
        obj = cls(**{n: data.get(n) for n in names})
        object.__setattr__(obj, "_json", data)
        return obj

    def __getattr__(self, name: str) -> Any:  # only for names that are not fields
        data = self.__dict__.get("_json", {})
        if name in data:
            return data[name]
        raise AttributeError(f"{type(self).__name__} has no field {name!r}")

    def to_dict(self) -> Dict[str, Any]:
        """Every field of the JSON object (exact values as Fractions)."""
        return dict(self._json)


Number = Union[int, float]


@dataclasses.dataclass(frozen=True, eq=True)
class Result(_Record):
    """The answer of one exact solve, the fields of ``lorasplit solve --format json``:
    the split ``b1``, ``b2``, ``b3`` [tokens] (ints; floats in the continuous domain),
    ``throughput_tokens_per_s`` [tokens/s], ``times_s`` [s], ``memory_bytes`` [B],
    ``binding``, ``baselines``, ``sensitivity``, ``certificate``, ``params``, and ``reason``
    when infeasible. Every ``*_exact`` field is a ``Fraction``."""

    status: str
    model: str
    domain: str
    case: Optional[str] = None
    model_note: Optional[str] = None
    reason: Optional[str] = None
    b1: Optional[Number] = None
    b2: Optional[Number] = None
    b3: Optional[Number] = None
    tokens: Optional[Number] = None
    b_exact: Optional[List[Fraction]] = None
    block_tokens: Optional[int] = None
    throughput_tokens_per_s: Optional[float] = None
    throughput_tokens_per_s_exact: Optional[Fraction] = None
    integer_throughput_tokens_per_s: Optional[float] = None
    integer_throughput_tokens_per_s_exact: Optional[Fraction] = None
    gap_percent: Optional[float] = None
    gpu_only_throughput_tokens_per_s: Optional[float] = None
    gpu_only_throughput_tokens_per_s_exact: Optional[Fraction] = None
    gpu_only_b1: Optional[int] = None
    gain_percent: Optional[float] = None
    gain_percent_exact: Optional[Fraction] = None
    times_s: Optional[Dict[str, float]] = None
    times_s_exact: Optional[Dict[str, Fraction]] = None
    slack_s: Optional[Dict[str, float]] = None
    memory_bytes: Optional[List[Dict[str, Any]]] = None
    constraints: Optional[List[Dict[str, Any]]] = None
    binding: Optional[List[str]] = None
    explanation: Optional[str] = None
    certificate: Optional[Dict[str, Any]] = None
    baselines: Optional[Dict[str, Any]] = None
    sensitivity: Optional[Dict[str, Any]] = None
    params: Optional[Dict[str, Any]] = dataclasses.field(default=None, repr=False)

    @property
    def throughput(self) -> Optional[Fraction]:
        """Exact throughput [tokens/s] (None when infeasible)."""
        return self.throughput_tokens_per_s_exact

    @property
    def times(self) -> Dict[str, Fraction]:
        """Exact stage times [s]: gpu_s1, cxl_s1, gpu_s2, cxl_s2, batch."""
        return dict(self.times_s_exact or {})

    def __repr__(self) -> str:
        if self.status != "optimal":
            return f"Result(status={self.status!r}, model={self.model!r})"
        return (f"Result(status='optimal', model={self.model!r}, b1={self.b1}, b2={self.b2}, b3={self.b3}, "
                f"throughput_tokens_per_s={self.throughput_tokens_per_s:.6g}, gain_percent={self.gain_percent:.4g})")


@dataclasses.dataclass(frozen=True, eq=True)
class Breakeven(_Record):
    """``lorasplit breakeven --format json``: where the split starts to pay."""

    param: str
    unit: str
    kind: str  #: threshold, window, always or never
    value: Optional[float] = None
    value_exact: Optional[Fraction] = None
    direction: Optional[str] = None
    target_gain_percent: Optional[float] = None
    target_gain_percent_exact: Optional[Fraction] = None
    gain_at_passing_percent_exact: Optional[Fraction] = None
    gain_at_failing_percent_exact: Optional[Fraction] = None
    limit_value_exact: Optional[Fraction] = None
    limit_gain_percent_exact: Optional[Fraction] = None
    solves: Optional[int] = None

    def __repr__(self) -> str:
        return f"Breakeven(param={self.param!r}, kind={self.kind!r}, value={self.value!r} {self.unit})"


@dataclasses.dataclass(frozen=True, eq=True)
class PlanCheck(_Record):
    """``lorasplit check --format json``: a split checked in exact arithmetic."""

    b1: int
    b2: int
    b3: int
    feasible: bool
    violated: List[str]
    throughput_tokens_per_s: Optional[float] = None
    throughput_tokens_per_s_exact: Optional[Fraction] = None
    constraints: Optional[List[Dict[str, Any]]] = dataclasses.field(default=None, repr=False)


@dataclasses.dataclass(frozen=True, eq=True)
class FrontierPoint(_Record):
    """One latency bound of ``lorasplit pareto --format json``."""

    max_batch_latency_s: float
    max_batch_latency_s_exact: Fraction
    status: str
    b1: Optional[int] = None
    b2: Optional[int] = None
    b3: Optional[int] = None
    batch_time_s: Optional[float] = None
    batch_time_s_exact: Optional[Fraction] = None
    throughput_tokens_per_s: Optional[float] = None
    throughput_tokens_per_s_exact: Optional[Fraction] = None
    gpu_only_throughput_tokens_per_s: Optional[float] = None
    gpu_only_throughput_tokens_per_s_exact: Optional[Fraction] = None
    gain_percent: Optional[float] = None
    gain_percent_exact: Optional[Fraction] = None


def solve(preset: str = "seed", model: Union[Model, str, None] = None,
          params: Optional[Mapping[str, ParamValue]] = None,
          domain: Union[Domain, str] = Domain.INTEGER, config: Optional[str] = None) -> Result:
    """Exact throughput-optimal split [tokens/s] of ``preset`` (then the TOML ``config``
    file, then ``params``), with its report. Same numbers as ``lorasplit solve``."""
    text = _lorasplit.solve_json(preset, config or "", _params(params) + _model(model), _domain(domain))
    return Result.from_json(_exact(json.loads(text)))


@dataclasses.dataclass(frozen=True, eq=True)
class ServingResult(_Record):
    """The serving model's answer (docs/model.md section 9), the fields of ``lorasplit
    solve --model serving --format json``: the iteration time [s] and throughput
    [tokens/s] of the optimum, its gain over ``gpu_fetch`` and ``gpu_hbm`` [%], the
    ``baselines`` by name, the ``plan`` (``{adapter, stage, path, tokens}``), per-stage
    item times, memory and the certificate. Every ``*_exact`` field is a ``Fraction``.
    ``mode`` is "batch" or "capacity" (``serving.mode``; docs/model.md section 9.12: each
    adapter's ``served_tokens`` in ``adapters``)."""

    status: str
    model: str
    mode: Optional[str] = None
    reason: Optional[str] = None
    iteration_time_s: Optional[float] = None
    iteration_time_s_exact: Optional[Fraction] = None
    throughput_tokens_per_s: Optional[float] = None
    throughput_tokens_per_s_exact: Optional[Fraction] = None
    gain_percent: Optional[float] = None
    gain_over_gpu_hbm_percent: Optional[float] = None
    baselines: Optional[Dict[str, Any]] = None
    plan: Optional[List[Dict[str, Any]]] = None
    stages: Optional[List[Dict[str, Any]]] = None
    memory_bytes: Optional[Dict[str, Any]] = None
    certificate: Optional[Dict[str, Any]] = None


def hardware(kind: Optional[str] = None) -> List[Dict[str, Any]]:
    """The hardware library (docs/hardware.md): GPUs, CXL devices and links, each value
    with ``evidence`` (spec, measured, assumed) and its ``note``; only ``kind`` ("gpu",
    "cxl", "link") when given. A part is used as ``params={"hardware.gpu": NAME}``, like
    ``--gpu NAME``. Same as ``lorasplit hardware --format json``."""
    if kind not in (None, "gpu", "cxl", "link"):
        raise ValueError(f"kind = '{kind}': expected gpu, cxl or link")
    return json.loads(_lorasplit.hardware_json(kind or ""))


def serving(config: str, preset: str = "seed",
            params: Optional[Mapping[str, ParamValue]] = None) -> ServingResult:
    """The serving model's exact plan for the workload and hardware of the TOML ``config``
    file (over ``preset``, then ``params``; keys ``serving.*`` and ``transformer.*`` change
    the workload, as ``--set`` does). Same numbers as ``lorasplit solve --model serving
    --config FILE``."""
    text = _lorasplit.serving_json(preset, config, _params(params))
    return ServingResult.from_json(_exact(json.loads(text)))


class Sweep(dict):
    """The columns of a sweep (a dict: column name -> numpy array, or list without numpy),
    one entry per point in the sweep's order. ``to_pandas()`` gives them as a
    ``pandas.DataFrame`` (exact columns as Fractions in object columns)."""

    def to_pandas(self):
        """The columns as a ``pandas.DataFrame`` (needs pandas: Debian's python3-pandas)."""
        try:
            import pandas as pd
        except ImportError as e:
            raise ImportError(f"Sweep.to_pandas() needs pandas (Debian: python3-pandas): {e}") from None
        return pd.DataFrame({k: list(v) if not hasattr(v, "dtype") else v for k, v in self.items()})


class ShardError(RuntimeError):
    """A shard of a sweep run on a Dask cluster failed: ``shard`` (1-based) of ``shards``,
    with the shard's own one-line ``message``."""

    def __init__(self, shard: int, shards: int, message: str) -> None:
        super().__init__(f"sweep shard {shard}/{shards} failed: {message}")
        self.shard = shard
        self.shards = shards
        self.message = message


_SERVING_FLOAT = ("iteration_time_s", "throughput_tokens_per_s", "gain_percent", "gain_over_gpu_hbm_percent",
                  "gpu_hbm_tokens_per_s", "gpu_fetch_tokens_per_s", "device_all_tokens_per_s", "device_share_percent",
                  "gap_at_most_percent")
_SERVING_INT = ("adapters_with_tokens", "nodes")


def _raw_columns(vary: Mapping[str, str], preset: str, params: Optional[Mapping[str, ParamValue]],
                 model: Union[Model, str, None], domain: Union[Domain, str], config: Optional[str], shard: str,
                 threads: int) -> Dict[str, Any]:
    """One shard of a sweep as the compiled module returns it (lists; what a Dask task
    sends back)."""
    specs = [f"{k}={v}" for k, v in vary.items()]
    return _lorasplit.sweep_columns(preset, config or "", _params(params) + _model(model), specs, _domain(domain),
                                    shard, threads)


def _concat(parts: Sequence[Dict[str, Any]]) -> Dict[str, Any]:
    """Shards' raw columns, one after the other."""
    out: Dict[str, Any] = {}
    for part in parts:
        for key, col in part.items():
            if key.startswith("_"):
                out[key] = col
            else:
                out.setdefault(key, []).extend(col)
    return out


def _finish_serving(cols: Dict[str, Any], vary: Mapping[str, str]) -> Sweep:
    param_axes = set(cols.pop("_param_axes"))
    cols.pop("_model")
    try:
        import numpy as np
    except ImportError:  # pragma: no cover - numpy is optional
        np = None
    nan = float("nan")
    out = Sweep()
    for key in vary:
        cells = cols.pop(key)
        if key in param_axes:
            exact = [Fraction(v) for v in cells]
            out[key] = [float(v) for v in exact]
            out[key + "_exact"] = exact
        elif all(c.isdigit() for c in cells):
            out[key] = [int(c) for c in cells]
        else:
            out[key] = list(cells)
    for key, cells in cols.items():
        if key.endswith("_exact"):
            out[key] = [Fraction(c) if c else None for c in cells]
        elif key in _SERVING_FLOAT:
            out[key] = [float(c) if c else nan for c in cells]
        elif key in _SERVING_INT:
            out[key] = [int(c) for c in cells]
        else:
            out[key] = list(cells)
    if np is not None:  # the dtype from the column, not its values (an empty shard has none)
        for key, col in list(out.items()):
            if key.endswith("_exact"):
                continue
            if key in _SERVING_FLOAT or key in param_axes:
                out[key] = np.array(col, dtype=float)
            elif key in _SERVING_INT or (key in vary and col and all(isinstance(c, int) for c in col)):
                out[key] = np.array(col, dtype=np.int64)
            else:
                out[key] = np.array(col, dtype=str)
    return out


def _finish(cols: Dict[str, Any], vary: Mapping[str, str]) -> Sweep:
    """Raw columns -> typed columns (the same for a local and a cluster sweep)."""
    if cols.get("_model") == "serving":
        return _finish_serving(cols, vary)
    out = Sweep()
    for key in vary:
        exact = [Fraction(v) for v in cols.pop(key + "_exact")]
        out[key] = [float(v) for v in exact]
        out[key + "_exact"] = exact
    out["throughput_tokens_per_s_exact"] = [Fraction(v) if v else None
                                            for v in cols.pop("throughput_tokens_per_s_exact")]
    out.update(cols)
    whole = all(b == b for b in out["b1"])  # no NaN: every point has a plan
    try:
        import numpy as np
    except ImportError:  # pragma: no cover - numpy is optional
        for key in ("b1", "b2", "b3"):
            out[key] = [int(b) if b == b else None for b in out[key]]
        return out
    for key in vary:
        out[key] = np.array(out[key], dtype=float)
    for key in ("b1", "b2", "b3"):
        out[key] = np.array(out[key], dtype=np.int64 if whole else float)
    for key in ("throughput_tokens_per_s", "gain_percent"):
        out[key] = np.array(out[key], dtype=float)
    out["status"] = np.array(out["status"], dtype=str)
    return out


def sweep(vary: Mapping[str, str], preset: str = "seed",
          params: Optional[Mapping[str, ParamValue]] = None, model: Union[Model, str, None] = None,
          domain: Union[Domain, str] = Domain.INTEGER, config: Optional[str] = None,
          shard: str = "1/1", threads: int = 0, client: Any = None, shards: Optional[int] = None,
          progress: bool = False) -> Sweep:
    """Solves every point of a grid exactly. ``vary`` maps one or two parameter keys to a
    spec: ``"lin:A:B:N"``, ``"log:A:B:N"`` or ``"a,b,c"`` (units allowed). Returns a
    ``Sweep`` of columns (``to_pandas()`` for a DataFrame).

    Seed and pipeline models: one column per varied key (floats, for plotting) with its
    exact values beside it in ``KEY_exact`` (Fractions); ``b1``, ``b2``, ``b3`` [tokens]
    (integers when every point has a plan, else floats with NaN where none);
    ``throughput_tokens_per_s`` and ``gain_percent`` (floats, NaN where infeasible) with
    ``throughput_tokens_per_s_exact`` (Fractions, None where infeasible); ``binding`` and
    ``status``.

    Serving model (``model="serving"`` or the config's, workload in ``config``; ``vary``
    may name workload keys ``serving.*``, ``transformer.*`` and parts ``hardware.gpu``,
    ``hardware.cxl``, ``hardware.link``): the columns of ``lorasplit sweep``'s CSV, times
    and throughputs as floats (NaN where empty), ``*_exact`` as Fractions (None where
    empty), counts as ints.

    numpy arrays when numpy is importable, lists otherwise (then b1..b3 are ints, or None
    where infeasible). ``shard="i/n"`` runs the i-th of n slices only.

    ``client`` (a ``distributed.Client``): the sweep is cut into ``shards`` slices (default:
    4 per worker) and each runs as one task on the client's workers, ``threads`` threads
    each (default 1: the workers' own threads give the parallelism); the result is the
    same columns, in the same order, as the local sweep. A failed shard raises
    ``ShardError`` with its number and message. ``progress=True`` shows Dask's progress
    bar (``distributed.progress``); the tasks are named ``lorasplit-sweep-I-of-N-...`` on
    the dashboard. The workers must be able to import lorasplit (PYTHONPATH) and read the
    config (passed by its absolute path)."""
    if client is None:
        if shards is not None:
            raise ValueError(f"shards = '{shards}': shards run on a Dask cluster: give client=")
        return _finish(_raw_columns(vary, preset, params, model, domain, config, shard, threads), vary)
    if shard != "1/1":
        raise ValueError(f"shard = '{shard}': with client=, give shards=N (the cluster runs every shard)")
    if shards is None:
        shards = 4 * max(1, len(client.scheduler_info().get("workers", {})))
    if isinstance(shards, bool) or not isinstance(shards, int) or shards < 1:
        raise ValueError(f"shards = '{shards}': expected a whole number >= 1")
    import os
    import uuid

    # A key of its own per call: two sweeps running at once never share a task.
    token = uuid.uuid4().hex
    # The workers may run in another folder: the config by its absolute path.
    where = os.path.abspath(config) if config else config
    futures = [client.submit(_raw_columns, dict(vary), preset, dict(params or {}), model, domain, where,
                             f"{i}/{shards}", threads or 1, key=f"lorasplit-sweep-{i}-of-{shards}-{token}")
               for i in range(1, shards + 1)]
    if progress:
        from distributed import progress as dask_progress
        dask_progress(futures)
    parts = []
    try:
        for i, f in enumerate(futures, start=1):
            try:
                parts.append(f.result())
            except Exception as e:  # the worker's exception, re-raised here by Dask
                raise ShardError(i, shards, str(e)) from e
    finally:
        for f in futures:
            f.release()
    return _finish(_concat(parts), vary)


@dataclasses.dataclass(frozen=True, eq=True)
class Timeline(_Record):
    """A simulated plan, the fields of ``lorasplit simulate --format json``: ``tasks`` (one
    dict per task: ``batch``, ``stage``, ``task``, ``resource``, ``tokens`` and ``start_s``,
    ``end_s``, ``done_s`` as exact Fractions of a second), ``stages`` (simulated against the
    model's T_GPU and T_CXL [s], with the model terms behind each difference),
    ``resources`` (busy time [s], utilization), ``makespan_s`` [s] and the throughputs
    [tokens/s], each a float with its ``_exact`` Fraction."""

    plan: Tuple[int, ...]
    model: str
    batches: int
    overlap: bool
    makespan_s: float
    makespan_s_exact: Fraction
    simulated_tokens_per_s: float
    simulated_tokens_per_s_exact: Fraction
    analytic_tokens_per_s: float
    analytic_tokens_per_s_exact: Fraction
    stages: List[Dict[str, Any]] = dataclasses.field(repr=False)
    resources: List[Dict[str, Any]] = dataclasses.field(repr=False)
    tasks: List[Dict[str, Any]] = dataclasses.field(repr=False)

    @classmethod
    def from_json(cls, data: Dict[str, Any]):
        shaped = dict(data)
        shaped["plan"] = tuple(data["plan"])
        shaped["tasks"] = [{k.replace("_exact", ""): v for k, v in t.items()} for t in data["tasks"]]
        obj = super().from_json(shaped)
        object.__setattr__(obj, "_json", data)
        return obj

    def __repr__(self) -> str:
        return f"Timeline(plan={self.plan}, tasks={len(self.tasks)}, makespan_s={self.makespan_s:.6g})"


def _whole_plan(plan: Sequence[Any]) -> List[int]:
    """The plan's batch sizes as ints: whole numbers only (1.5 is an error, not 1), three
    of them (an empty plan is an error; ``plan=None`` means the certified optimum)."""
    out: List[int] = []
    for b in plan:
        if isinstance(b, bool) or not isinstance(b, (int, float, Fraction)) or b != int(b):
            raise ValueError(f"plan: expected three whole numbers b1, b2, b3 (got {b!r})")
        out.append(int(b))
    if len(out) != 3:
        raise ValueError(f"plan: expected three whole numbers b1, b2, b3 (got {len(out)})")
    return out


def simulate(preset: str = "seed", model: Union[Model, str, None] = None,
             params: Optional[Mapping[str, ParamValue]] = None, config: Optional[str] = None,
             plan: Optional[Sequence[int]] = None, batches: int = 1, overlap: bool = False) -> Timeline:
    """Plays ``plan`` (b1, b2, b3 tokens; default: the certified optimum) out event by event
    on the GPU, the device and the link, ``batches`` times back to back (``overlap``: the
    next batch's stage 1 may start during stage 2). Same numbers as ``lorasplit simulate``."""
    text = _lorasplit.simulate_json(preset, config or "", _params(params) + _model(model),
                                    _whole_plan(plan) if plan is not None else [], int(batches),
                                    bool(overlap))
    return Timeline.from_json(_exact(json.loads(text)))


def compare_serving(config: str, preset: str = "seed",
                    params: Optional[Mapping[str, ParamValue]] = None) -> Dict[str, Any]:
    """The serving model's batch solved exactly with the adapters' weights as given, all in
    GPU memory, all in device memory and in both, as ``lorasplit compare --model serving
    --config FILE --format json``: ``cases`` (each ``weights``, ``given``, ``status``,
    ``iteration_time_s`` and ``throughput_tokens_per_s`` with their ``_exact`` Fractions,
    ``device_share_percent``, the gains [%], ``served_tokens``) and ``best``. Under
    ``serving.mode = capacity`` each case serves the tokens its own optimum chooses."""
    return _exact(json.loads(_lorasplit.serving_compare_json(preset, config, _params(params))))


def simulate_serving(config: str, plan: str = "optimum", layers: Optional[int] = 1, preset: str = "seed",
                     params: Optional[Mapping[str, ParamValue]] = None) -> Dict[str, Any]:
    """The serving model's plan played event by event over its stage graph, as ``lorasplit
    simulate --model serving --config FILE --format json``: ``plan`` is ``"optimum"`` (the
    certified plan), ``"gpu_fetch"``, ``"gpu_hbm"``, ``"device_all"`` or the path of a JSON
    plan file (``solve --format json``'s output); ``layers`` of the shape's (``None``: all).
    Every ``*_exact`` value is a Fraction [s or tokens/s]; ``equal`` is True (the simulated
    stages end where the model's formulas say)."""
    if layers is not None and (isinstance(layers, bool) or not isinstance(layers, int) or layers < 1):
        raise ValueError(f"layers: a whole number >= 1, or None for all (got {layers!r})")
    text = _lorasplit.serving_simulate_json(preset, config, _params(params), str(plan), 0 if layers is None else layers)
    return _exact(json.loads(text))


def presets() -> Dict[str, Dict[str, Any]]:
    """Built-in parameter sets: name -> {"description", "params": {key: exact value}}."""
    data = json.loads(_lorasplit.presets_json())
    for p in data.values():
        p["params"] = {k: (None if v == "none" else Fraction(v)) for k, v in p["params"].items()}
    return data


def params() -> List[Dict[str, Any]]:
    """The parameter table, as ``lorasplit params --format json``: per parameter its
    ``key``, ``unit``, ``symbol``, ``description``, ``seed`` value, ``optional``,
    ``pipeline_only``, and either the ``choices`` (words) or ``min_exact``,
    ``min_inclusive``, ``max_exact`` and ``whole_number``."""
    return json.loads(_lorasplit.params_json())


def export_lp(preset: str = "seed", params: Optional[Mapping[str, ParamValue]] = None,
              model: Union[Model, str, None] = None, domain: Union[Domain, str] = Domain.INTEGER,
              config: Optional[str] = None) -> str:
    """The integer program of the final Dinkelbach step in CPLEX LP format (read by GLPK
    and CBC), as ``lorasplit export --format lp``."""
    return _lorasplit.export_lp(preset, config or "", _params(params) + _model(model), _domain(domain))


def breakeven(param: str, gain_percent: ParamValue = 0, preset: str = "seed",
              params: Optional[Mapping[str, ParamValue]] = None, model: Union[Model, str, None] = None,
              domain: Union[Domain, str] = Domain.INTEGER, config: Optional[str] = None,
              over: Optional[str] = None) -> Breakeven:
    """Where the split starts to beat GPU-only by more than ``gain_percent`` [%] as
    ``param`` moves over its valid range (bisection over exact solves). The fields of
    ``lorasplit breakeven --format json``: ``kind``, ``value`` (float) and ``value_exact``
    (Fraction), the bracket, the gains [%] at each end, ``solves``. Under the serving model
    (workload in ``config``) the plan's gain over ``over``: "gpu_fetch" (default) or
    "gpu_hbm", as ``--over``."""
    if over not in (None, "gpu_fetch", "gpu_hbm"):
        raise ValueError(f"over = '{over}': expected gpu_fetch or gpu_hbm")
    text = _lorasplit.breakeven_json(preset, config or "", _params(params) + _model(model), param,
                                     _text("gain", gain_percent), _domain(domain), over or "")
    return Breakeven.from_json(_exact(json.loads(text)))


def compare(preset: str = "seed", params: Optional[Mapping[str, ParamValue]] = None,
            domain: Union[Domain, str] = Domain.INTEGER, config: Optional[str] = None) -> Dict[str, Any]:
    """The seed and the pipeline model on the same parameters, and each switch of the
    pipeline alone: the fields of ``lorasplit compare --format json`` (``seed`` and
    ``pipeline`` as ``Result``)."""
    data = _exact(json.loads(_lorasplit.compare_json(preset, config or "", _params(params), _domain(domain))))
    for key in ("seed", "pipeline"):
        if isinstance(data.get(key), dict):
            data[key] = Result.from_json(data[key])
    return data


def check(plan: Sequence[Any], preset: str = "seed", params: Optional[Mapping[str, ParamValue]] = None,
          model: Union[Model, str, None] = None, config: Optional[str] = None) -> PlanCheck:
    """Any split (b1, b2, b3 tokens) checked in exact arithmetic, as ``lorasplit check
    --plan``: ``feasible``, every row with its slack, the exact throughput [tokens/s]."""
    text, _feasible = _lorasplit.check_json(preset, config or "", _params(params) + _model(model), _whole_plan(plan))
    return PlanCheck.from_json(_exact(json.loads(text)))


def explain(preset: str = "seed", params: Optional[Mapping[str, ParamValue]] = None,
            model: Union[Model, str, None] = None, domain: Union[Domain, str] = Domain.INTEGER,
            config: Optional[str] = None) -> str:
    """The text of ``lorasplit explain``: every row with its numbers, the integer form the
    solver ran on, and the solver's path to the certified optimum."""
    return _lorasplit.explain_text(preset, config or "", _params(params) + _model(model), _domain(domain))


def pareto(preset: str = "seed", params: Optional[Mapping[str, ParamValue]] = None,
           model: Union[Model, str, None] = None, domain: Union[Domain, str] = Domain.INTEGER,
           config: Optional[str] = None, points: int = 24) -> List[FrontierPoint]:
    """The throughput-latency frontier, as ``lorasplit pareto --format json``: one dict per
    latency bound [s] with the optimal split, its batch time [s] and throughput
    [tokens/s], GPU-only's, and the gain [%]."""
    if isinstance(points, bool) or not isinstance(points, int) or points < 1:
        raise ValueError(f"points = '{points}': expected a whole number >= 1")
    text = _lorasplit.pareto_json(preset, config or "", _params(params) + _model(model), _domain(domain), points)
    return [FrontierPoint.from_json(p) for p in _exact(json.loads(text))]
