"""The Python API against the CLI: same numbers, same errors. Run by ctest (python.pytest)
with PYTHONPATH pointing at the built package and LORASPLIT_CLI at the CLI."""
import dataclasses
import json
import math
import os
import random
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest

import lorasplit

CLI = os.environ.get("LORASPLIT_CLI", "lorasplit")
ROOT = Path(__file__).resolve().parents[2]


def cli_json(*args):
    out = subprocess.run([CLI, *args, "--format", "json"], capture_output=True, text=True)
    return out.returncode, json.loads(out.stdout) if out.stdout.strip() else None, out.stderr


def as_python(j):
    return lorasplit._exact(j)  # the package's own JSON -> Fraction conversion


@pytest.mark.parametrize("preset", list(lorasplit.presets()))
def test_solve_equals_cli_json_for_presets(preset):
    rc, j, _ = cli_json("solve", "--preset", preset)
    assert rc == 0
    r = lorasplit.solve(preset=preset)
    assert r.to_dict() == as_python(j)
    assert (r.b1, r.b2, r.b3) == (j["b1"], j["b2"], j["b3"])
    assert isinstance(r.throughput, Fraction)
    assert r.throughput == Fraction(j["throughput_tokens_per_s_exact"])


def test_seed_known_answer():
    r = lorasplit.solve()
    assert (r.b1, r.b2, r.b3) == (8323128, 0, 17817)
    assert r.throughput_tokens_per_s_exact == Fraction(21313938232421875, 11097504)
    # batch time = T_GPU_S1 + T_GPU_S2, exactly
    assert r.times["batch"] == r.times["gpu_s1"] + r.times["gpu_s2"]
    assert r.certificate["final_subproblem_max_tokens_exact"] == 0


def test_random_instances_equal_cli():
    rng = random.Random(7)
    for _ in range(25):
        params = {
            "gpu.memory_bytes": f"{rng.randint(1, 64)} GiB",
            "gpu.flops": f"{rng.randint(5, 400)}e12",
            "cxl.flops": f"{rng.randint(1, 50)}e11",
            "link.bandwidth_bytes_per_s": f"{rng.randint(4, 256)} GiB/s",
            "link.latency_s": f"{rng.randint(0, 2000)} ns",
            "lora.r": rng.choice([1, 4, 8, 16, 64]),
            "lora.block_tokens": rng.choice([1, 1, 32]),
        }
        domain = rng.choice(list(lorasplit.Domain))
        args = ["solve", "--domain", domain.value]
        for k, v in params.items():
            args += ["--set", f"{k}={v}"]
        rc, j, _ = cli_json(*args)
        r = lorasplit.solve(params=params, domain=domain)
        assert r.to_dict() == as_python(j), params
        assert (rc == 0) == (r.status == "optimal")


@pytest.mark.parametrize("params,needle", [
    ({"gpu.flops": "nan"}, "gpu.flops = 'nan'"),
    ({"gpu.memroy_bytes": 1}, "unknown parameter 'gpu.memroy_bytes'"),
    ({"link.latency_s": "16 GiB"}, "measures bytes"),
    ({"lora.r": 600}, "lora.r = '600'"),
    ({"lora.d": 512.5}, "must be a whole number"),
    ({"gpu.flops": -1}, "must not be negative"),
])
def test_bad_input_raises_value_error_with_the_cli_message(params, needle):
    with pytest.raises(ValueError) as err:
        lorasplit.solve(params=params)
    args = ["solve"]
    for k, v in params.items():
        args += ["--set", f"{k}={lorasplit._text(k, v)}"]
    rc, _, stderr = cli_json(*args)
    assert rc == 2
    assert needle in str(err.value)
    # The same message; the CLI adds where to look up the parameter keys when the
    # message suggests no nearest key.
    hint = (" (see 'lorasplit params')"
            if "unknown parameter" in needle and "did you mean" not in str(err.value) else "")
    assert stderr.strip() == f"lorasplit: error: {err.value}{hint}"


def test_bad_domain_and_preset():
    with pytest.raises(ValueError, match="domain"):
        lorasplit.solve(domain="real")
    with pytest.raises(ValueError, match="unknown preset"):
        lorasplit.solve(preset="h100")
    with pytest.raises(ValueError, match="unknown model"):
        lorasplit.solve(model="tree")
    with pytest.raises(ValueError, match="a switch of the pipeline model"):
        lorasplit.solve(params={"pipeline.chunk_tokens": 64})


@pytest.mark.parametrize("switches", [{}, {"pipeline.chunk_tokens": 1}, {"pipeline.chunk_tokens": 1,
                                      "pipeline.relaxed_sync": False}, {"lora.weights": "cxl"}])
def test_pipeline_model_equals_cli(switches):
    config = str(ROOT / "tests" / "data" / "hand_pipeline.toml")
    sets = []
    for k, v in switches.items():
        sets += ["--set", f"{k}={'off' if v is False else v}"]
    rc, j, _ = cli_json("solve", "--config", config, "--model", "pipeline", *sets)
    assert rc == 0
    r = lorasplit.solve(config=config, model=lorasplit.Model.PIPELINE, params=switches)
    assert r.to_dict() == as_python(j)
    assert r.model == "pipeline" and r.case == j["case"]


def test_pipeline_hand_answer():
    r = lorasplit.solve(config=str(ROOT / "tests" / "data" / "hand_pipeline.toml"),
                        params={"pipeline.chunk_tokens": 1})
    assert (r.b1, r.b2, r.b3) == (5, 0, 4)
    assert r.throughput == Fraction(9, 11)


def test_serving_hand_answer_equals_cli():
    # docs/model.md section 9; the arithmetic is in the file's comments.
    config = str(ROOT / "tests" / "data" / "hand_serving.toml")
    rc, j, _ = cli_json("solve", "--config", config)
    assert rc == 0
    r = lorasplit.serving(config)
    assert r.to_dict() == as_python(j)
    assert r.iteration_time_s_exact == Fraction(197, 4)
    assert r.baselines["gpu_fetch"]["iteration_time_s_exact"] == Fraction(211, 4)
    assert {(p["adapter"], p["stage"], p["path"], p["tokens"]) for p in r.plan} == {
        ("a", "qkv", "gpu", 1), ("a", "qkv", "split", 1), ("b", "o", "split", 1)}
    # The same file with a smaller GPU: no plan fits, and the report says which row.
    with pytest.raises(ValueError, match="lora.r = '4': not read by the serving model"):
        lorasplit.serving(config, params={"lora.r": 4})
    small = lorasplit.serving(config, params={"gpu.memory_bytes": "135 B"})
    assert small.status == "infeasible" and "GPU memory row" in small.reason
    with pytest.raises(ValueError, match="gpu.kernel_overhead_s"):
        lorasplit.serving(config, params={"gpu.kernel_overhead_s": "-1 s"})
    # A device without compute (a memory expander) takes no token: gpu_fetch is the optimum.
    plain = lorasplit.serving(config, params={"cxl.flops": 0})
    assert plain.status == "optimal"
    assert plain.iteration_time_s_exact == Fraction(211, 4)
    assert plain.gain_percent == 0
    assert plain.baselines["device_all"]["status"] == "infeasible"
    assert "no compute" in plain.baselines["device_all"]["reason"]
    # Capacity mode (section 9.12): a 30 s latency bound serves one token of a, in 25 s.
    rc, j, _ = cli_json("solve", "--config", config, "--set", "serving.mode=capacity",
                        "--set", "lora.max_batch_latency_s=30")
    assert rc == 0
    cap = lorasplit.serving(config, params={"serving.mode": "capacity", "lora.max_batch_latency_s": 30})
    assert cap.to_dict() == as_python(j)
    assert cap.mode == "capacity" and cap.throughput_tokens_per_s_exact == Fraction(1, 25)
    assert [a["served_tokens"] for a in cap.adapters] == [1, 0]
    sim = lorasplit.simulate_serving(config, params={"serving.mode": "capacity", "lora.max_batch_latency_s": 30})
    assert sim["equal"] is True and sim["model_iteration_time_s_exact"] == 25
    plan_file = str(ROOT / "tests" / "data" / "hand_serving_capacity_plan.json")
    played = lorasplit.simulate_serving(config, plan=plan_file,
                                        params={"serving.mode": "capacity", "lora.max_batch_latency_s": 30})
    assert played["equal"] is True and played["model_iteration_time_s_exact"] == 25
    # A sweep over the latency bound: the throughput each bound allows.
    swept = lorasplit.sweep({"lora.max_batch_latency_s": "30,100"}, config=config,
                            params={"serving.mode": "capacity"})
    assert list(swept["iteration_time_s_exact"]) == [25, Fraction(197, 4)]
    assert list(swept["adapters_with_tokens"]) == [1, 2]


def test_hardware_parts_equal_cli():
    # docs/hardware.md: the library as the CLI lists it, and a machine composed from it.
    rc, j, _ = cli_json("hardware")
    assert rc == 0 and lorasplit.hardware() == j
    assert [p["name"] for p in lorasplit.hardware("link")] == ["pcie4-x16", "cxl2-x16", "cxl2-x8", "cxl3-x16"]
    # A memory expander (no compute) plans the serving model only: its optimum is gpu_fetch.
    expander = [p for p in lorasplit.hardware("cxl") if p["name"] == "cz120-256gb"]
    assert len(expander) == 1
    flops = [v for v in expander[0]["values"] if v["key"] == "cxl.flops"]
    assert flops[0]["value_exact"] == "0" and flops[0]["evidence"] == "spec"
    rc, j, _ = cli_json("solve", "--gpu", "h100-sxm", "--cxl", "cxl-pnm-512gb")
    assert rc == 0
    r = lorasplit.solve(params={"hardware.gpu": "h100-sxm", "hardware.cxl": "cxl-pnm-512gb"})
    assert r.to_dict() == as_python(j)
    flops = [i for i in r.inputs if i["key"] == "cxl.flops"][0]
    assert flops["evidence"] == "assumed" and flops["where"] == "cxl cxl-pnm-512gb"
    with pytest.raises(ValueError, match="did you mean 'h100-sxm'"):
        lorasplit.solve(params={"hardware.gpu": "h100"})
    with pytest.raises(ValueError, match="hardware.foo = 'h100-sxm': unknown key"):
        lorasplit.solve(params={"hardware.foo": "h100-sxm"})
    # compare keeps a part's device memory for its pipeline column, as the CLI does.
    tiny = str(ROOT / "tests" / "data" / "tiny_cxl_profile.toml")
    rc, j, _ = cli_json("compare", "--cxl", tiny)
    assert rc == 0 and j["pipeline"]["b1"] == 13172
    assert lorasplit.compare(params={"hardware.cxl": tiny})["pipeline"].b1 == 13172


def test_simulate_serving_equals_cli(tmp_path):
    # docs/model.md section 9.4: the plan played out ends each stage where the model does.
    config = str(ROOT / "tests" / "data" / "hand_serving.toml")
    rc, j, _ = cli_json("simulate", "--config", config)
    assert rc == 0
    sim = lorasplit.simulate_serving(config)
    assert sim == as_python(j)
    assert sim["equal"] is True
    assert sim["simulated_iteration_time_s_exact"] == Fraction(197, 4)
    assert [s["simulated_s_exact"] for s in sim["stages"]] == [Fraction(65, 4), 10, Fraction(21, 2), Fraction(15, 2), 5]
    assert lorasplit.simulate_serving(config, plan="gpu_fetch")["simulated_iteration_time_s_exact"] == Fraction(211, 4)
    # A plan file: solve's own output, read back.
    solved = tmp_path / "solve.json"
    solved.write_text(json.dumps(cli_json("solve", "--config", config)[1]))
    assert lorasplit.simulate_serving(config, plan=str(solved))["model_iteration_time_s_exact"] == Fraction(197, 4)
    with pytest.raises(ValueError, match="cannot run: the GPU memory row"):
        lorasplit.simulate_serving(config, plan="gpu_hbm", params={"gpu.memory_bytes": "143 B"})
    with pytest.raises(ValueError, match="layers = 2"):
        lorasplit.simulate_serving(config, layers=2)
    with pytest.raises(ValueError, match="layers"):
        lorasplit.simulate_serving(config, layers=0)
    big = str(ROOT / "examples" / "serving_llama3_8b.toml")
    every = lorasplit.simulate_serving(big, layers=None, params={"serving.adapters": 3})
    assert every["layers_simulated"] == every["layers"] == 32
    assert every["makespan_s_exact"] == every["model_iteration_time_s_exact"]


def test_compare_serving_equals_cli():
    config = str(ROOT / "tests" / "data" / "hand_serving.toml")
    rc, j, _ = cli_json("compare", "--config", config)
    assert rc == 0
    c = lorasplit.compare_serving(config)
    assert c == as_python(j)
    by = {x["weights"]: x for x in c["cases"]}
    assert by["gpu"]["iteration_time_s_exact"] == Fraction(99, 2)
    assert by["cxl"]["given"] and by["cxl"]["iteration_time_s_exact"] == Fraction(197, 4)
    assert c["best"] == "both"
    # Capacity mode (docs/model.md section 9.12): each residency serves its own best batch.
    params = {"serving.mode": "capacity", "lora.max_batch_latency_s": 30}
    rc, j, _ = cli_json("compare", "--config", config, "--set", "serving.mode=capacity",
                        "--set", "lora.max_batch_latency_s=30")
    assert rc == 0
    cap = lorasplit.compare_serving(config, params=params)
    assert cap == as_python(j) and cap["mode"] == "capacity"
    by = {x["weights"]: x for x in cap["cases"]}
    assert by["cxl"]["served_tokens"] == 1 and by["cxl"]["throughput_tokens_per_s_exact"] == Fraction(1, 25)
    b = lorasplit.breakeven("link.latency_s", config=config, params=params, over="gpu_hbm")
    assert b.kind == "threshold" and b.gain_at_passing_percent_exact > 0 >= b.gain_at_failing_percent_exact
    assert abs(b.value_exact - Fraction(1, 2)) <= Fraction(1, 10**9)


def test_serving_workload_keys_equal_cli_set():
    # docs/model.md section 9.1: serving.* and transformer.* change the workload, as --set does.
    config = str(ROOT / "examples" / "serving_llama3_8b.toml")
    rc, j, _ = cli_json("solve", "--config", config, "--set", "serving.adapters=2", "--set",
                        "transformer.preset=mistral-7b")
    assert rc == 0
    r = lorasplit.serving(config, params={"serving.adapters": 2, "transformer.preset": "mistral-7b"})
    assert r.to_dict() == as_python(j)
    assert r.to_dict()["transformer"]["name"] == "mistral-7b" and len(r.to_dict()["adapters"]) == 2
    with pytest.raises(ValueError, match="serving.adapters"):
        lorasplit.serving(config, params={"serving.adapters": "x"})


def test_sweep_equals_cli_jsonl():
    vary = {"link.bandwidth_bytes_per_s": "log:1GiB/s:1TiB/s:7", "lora.r": "2,4,600"}
    cols = lorasplit.sweep(vary)
    out = subprocess.run([CLI, "sweep", "--format", "jsonl"] + [f"--vary={k}={v}" for k, v in vary.items()],
                         capture_output=True, text=True, check=True).stdout.splitlines()
    assert len(out) == 21 == len(cols["status"])
    for i, line in enumerate(out):
        row = json.loads(line)
        assert row["status"] == cols["status"][i]
        assert Fraction(row["lora.r_exact"]) == cols["lora.r"][i]
        if row["status"] == "optimal":
            assert Fraction(row["throughput_tokens_per_s_exact"]) == cols["throughput_tokens_per_s_exact"][i]
            assert row["b3"] == cols["b3"][i]


def test_sweep_columns_are_numpy_arrays():
    np = pytest.importorskip("numpy")
    cols = lorasplit.sweep({"link.latency_s": "lin:0:2us:5"})
    assert isinstance(cols["gain_percent"], np.ndarray)
    assert cols["link.latency_s"].shape == (5,)
    assert np.all(np.diff(cols["gain_percent"]) <= 0)  # more latency never helps


def test_presets_and_params():
    p = lorasplit.presets()
    assert p["seed"]["params"]["gpu.flops"] == Fraction(157 * 10**11)
    assert p["a100-fp16-d8192"]["params"]["lora.block_tokens"] == 32
    keys = [row["key"] for row in lorasplit.params()]
    assert "link.bandwidth_bytes_per_s" in keys


def test_breakeven_matches_cli():
    b = lorasplit.breakeven("link.latency_s")
    _, j, _ = cli_json("breakeven", "--param", "link.latency_s")
    assert b.to_dict() == as_python(j)  # every field, the float value included
    assert b.value_exact == Fraction(j["value_exact"]) and isinstance(b.value, float)
    assert b.kind == j["kind"] == "threshold"
    assert isinstance(b, lorasplit.Breakeven) and "Breakeven(param='link.latency_s'" in repr(b)
    # model= as the CLI's --model
    bp = lorasplit.breakeven("link.bandwidth_bytes_per_s", model="pipeline", gain_percent=1)
    _, jp, _ = cli_json("breakeven", "--param", "link.bandwidth_bytes_per_s", "--model", "pipeline", "--gain", "1")
    assert bp.to_dict() == as_python(jp)


# Every CLI subcommand that answers in JSON has a Python function with the same fields.
def test_compare_matches_cli():
    c = lorasplit.compare(params={"pipeline.chunk_tokens": 64})
    _, j, _ = cli_json("compare", "--set", "pipeline.chunk_tokens=64")
    expected = as_python(j)
    assert c["seed"].to_dict() == expected["seed"]
    assert c["pipeline"].to_dict() == expected["pipeline"]
    assert {k: v for k, v in c.items() if k not in ("seed", "pipeline")} == \
        {k: v for k, v in expected.items() if k not in ("seed", "pipeline")}


@pytest.mark.parametrize("plan", [(8323128, 0, 17817), (8323128, 0, 17818), (1, 0, 0)])
def test_check_matches_cli(plan):
    got = lorasplit.check(plan)
    rc, j, _ = cli_json("check", "--plan", ",".join(map(str, plan)))
    assert got.to_dict() == as_python(j)
    assert got.feasible == (rc == 0) and isinstance(got, lorasplit.PlanCheck)


def test_check_refuses_what_the_cli_refuses():
    with pytest.raises(ValueError, match="not a non-negative whole number of blocks"):
        lorasplit.check((3, 0, 0), params={"lora.block_tokens": 2})


def test_explain_matches_cli():
    text = lorasplit.explain(model="pipeline")
    out = subprocess.run([CLI, "explain", "--model", "pipeline"], capture_output=True, text=True, check=True).stdout
    assert text == out
    assert "Integer form used by the solver" in text


def test_params_and_export_match_cli():
    _, j, _ = cli_json("params")
    assert lorasplit.params() == j
    words = {p["key"]: p.get("choices") for p in lorasplit.params()}
    assert words["model.name"] == ["seed", "pipeline", "serving"]
    lp = lorasplit.export_lp(model="pipeline")
    out = subprocess.run([CLI, "export", "--model", "pipeline"], capture_output=True, text=True, check=True).stdout
    assert lp == out and lp.startswith("\\ lorasplit export")


def test_pareto_matches_cli():
    f = lorasplit.pareto(points=5)
    _, j, _ = cli_json("pareto", "--points", "5")
    assert [p.to_dict() for p in f] == as_python(j)
    assert len(f) == 5 and all(isinstance(p.b1, int) for p in f if p.status == "optimal")
    with pytest.raises(ValueError, match="points"):
        lorasplit.pareto(points=0)


def test_results_are_typed_with_one_convention():
    r = lorasplit.solve()
    assert isinstance(r, lorasplit.Result) and dataclasses.is_dataclass(r)
    assert isinstance(r.b1, int) and isinstance(r.throughput_tokens_per_s, float)
    assert isinstance(r.throughput_tokens_per_s_exact, Fraction) and r.throughput == r.throughput_tokens_per_s_exact
    assert repr(r).startswith("Result(status='optimal', model='seed', b1=8323128")
    t = lorasplit.simulate()
    assert isinstance(t.makespan_s, float) and isinstance(t.makespan_s_exact, Fraction)
    assert math.isclose(float(t.makespan_s_exact), t.makespan_s, rel_tol=1e-15)
    assert set(lorasplit.__all__) >= {"Result", "Timeline", "Breakeven", "PlanCheck", "FrontierPoint", "compare",
                                      "check", "explain", "pareto"}
    with pytest.raises(AttributeError, match="no field"):
        _ = r.nonexistent


def test_sweep_integers_are_integers():
    np = pytest.importorskip("numpy")
    cols = lorasplit.sweep({"link.latency_s": "lin:0:2us:5"})
    assert cols["b1"].dtype == np.int64 and cols["b3"].dtype == np.int64
    assert cols["link.latency_s_exact"][1] == Fraction(1, 2_000_000)  # exact beside the floats
    assert cols["link.latency_s"].dtype == float
    # A point without a plan: floats with NaN there.
    mixed = lorasplit.sweep({"lora.r": "2,600"})
    assert mixed["b1"].dtype == float and np.isnan(mixed["b1"][1])


def test_exact_parameter_values():
    # A float is read at its shortest repr; a Fraction must be a terminating decimal.
    a = lorasplit.solve(params={"gpu.flops": 15.7e12})
    assert a.params["gpu.flops"]["exact"] == "15700000000000"
    b = lorasplit.solve(params={"link.latency_s": Fraction(1, 5_000_000)})
    assert b.params["link.latency_s"]["exact"] == "1/5000000"
    with pytest.raises(ValueError, match="not an exact decimal"):
        lorasplit.solve(params={"link.latency_s": Fraction(1, 3)})


def test_example_runs(tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "gain.png"
    env = dict(os.environ)
    subprocess.run([sys.executable, str(ROOT / "examples" / "bandwidth_gain.py"), str(out)], check=True, env=env)
    assert out.stat().st_size > 10_000
    assert out.read_bytes()[:4] == b"\x89PNG"


def test_simulate_equals_cli():
    config = str(ROOT / "tests" / "data" / "hand_pipeline.toml")
    rc, j, _ = cli_json("simulate", "--config", config, "--set", "lora.weights=gpu", "--plan", "2,1,1",
                        "--batches", "2", "--overlap")
    assert rc == 0
    t = lorasplit.simulate(config=config, params={"lora.weights": "gpu"}, plan=(2, 1, 1), batches=2, overlap=True)
    assert t.to_dict() == as_python(j)
    assert t.plan == (2, 1, 1)
    assert len(t.tasks) == 18
    first = t.tasks[0]
    assert first["resource"] == "gpu" and first["start_s"] == 0 and first["end_s"] == Fraction(2)
    assert t.stages[0]["sim_cxl_s_exact"] == Fraction(15, 2)


def test_simulate_defaults_to_the_optimum_and_reports_the_seed_terms():
    t = lorasplit.simulate()
    assert t.plan == (8323128, 0, 17817)
    terms = t.stages[1]["cxl_terms"]
    assert [x["seconds_exact"] for x in terms] == [Fraction(1, 1000000)]
    with pytest.raises(ValueError, match="the plan holds no token"):
        lorasplit.simulate(plan=(0, 0, 0))


# Reliability (docs/errors.md): what the CLI rejects, Python rejects too.
@pytest.mark.parametrize("vary", [{}, {"lora.r": "4,8", "lora.d": "512,1024", "gpu.flops": "1e12,2e12"}])
def test_sweep_takes_one_or_two_axes(vary):
    with pytest.raises(ValueError, match="one or two parameters"):
        lorasplit.sweep(vary)


@pytest.mark.parametrize("plan", [[1.5, 0, 0], [], [1, 2], [True, 0, 0], ["1", 0, 0]])
def test_simulate_rejects_a_plan_that_is_not_three_whole_numbers(plan):
    with pytest.raises(ValueError, match="plan: expected three whole numbers"):
        lorasplit.simulate(plan=plan)


def test_simulate_takes_whole_floats_and_fractions():
    t = lorasplit.simulate(plan=[8323128.0, 0, Fraction(17817)])
    assert list(t.plan) == [8323128, 0, 17817]


def test_sweep_stops_on_ctrl_c():
    # SIGINT half a second into a sweep of 10^7 points (tens of seconds of work): the
    # sweep stops between blocks and raises KeyboardInterrupt.
    import signal
    import threading
    timer = threading.Timer(0.5, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            lorasplit.sweep({"link.bandwidth_bytes_per_s": "log:1GiB/s:1TiB/s:10000000"})
    finally:
        timer.cancel()
