"""Sweeps on a Dask cluster (lorasplit.sweep(..., client=, shards=)), serving-model sweeps
from Python and the pandas view. A two-process LocalCluster must give exactly the local
sweep's columns, in the same order. Skipped with a message where python3-distributed (or
python3-pandas) is missing; the README's commands install both."""
import csv
import io
import math
import os
import subprocess
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

import lorasplit

ROOT = Path(__file__).resolve().parents[2]
CONFIG = str(ROOT / "examples" / "serving_llama3_8b.toml")
CLI = os.environ.get("LORASPLIT_CLI", "lorasplit")
SERVING_VARY = {"serving.adapters": "1,2,3", "link.bandwidth_bytes_per_s": "16GB/s,64GB/s"}
SEED_VARY = {"link.bandwidth_bytes_per_s": "log:1GiB/s:1TiB/s:9", "lora.r": "2,4,600"}


def same_columns(a, b):
    assert list(a) == list(b)
    for key in a:
        x, y = a[key], b[key]
        if isinstance(x, np.ndarray) and x.dtype.kind == "f":
            assert np.array_equal(x, y, equal_nan=True), key
        else:
            assert list(x) == list(y), key


def test_serving_sweep_equals_the_cli_csv():
    local = lorasplit.sweep(SERVING_VARY, config=CONFIG)
    out = subprocess.run([CLI, "sweep", "--config", CONFIG, "--vary", "serving.adapters=1,2,3", "--vary",
                          "link.bandwidth_bytes_per_s=16GB/s,64GB/s"], capture_output=True, text=True, check=True)
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    assert len(rows) == 6 == len(local["status"])
    for i, row in enumerate(rows):
        assert local["serving.adapters"][i] == int(row["serving.adapters"])
        assert local["link.bandwidth_bytes_per_s_exact"][i] == Fraction(row["link.bandwidth_bytes_per_s"])
        assert local["status"][i] == row["status"] == "optimal"
        assert local["iteration_time_s_exact"][i] == Fraction(row["iteration_time_s_exact"])
        assert local["nodes"][i] == int(row["nodes"])
        assert math.isclose(local["throughput_tokens_per_s"][i], float(row["throughput_tokens_per_s"]),
                            rel_tol=1e-8)
    # Shards of the local sweep concatenate to it.
    parts = [lorasplit.sweep(SERVING_VARY, config=CONFIG, shard=f"{i}/4") for i in range(1, 5)]
    assert sum(len(p["status"]) for p in parts) == 6
    assert [s for p in parts for s in p["status"]] == list(local["status"])


def test_serving_sweep_errors_name_the_point():
    with pytest.raises(ValueError, match="point 3 of 3"):
        lorasplit.sweep({"serving.adapters": "1,2,0"}, config=CONFIG)
    with pytest.raises(ValueError, match="both varied"):
        lorasplit.sweep({"serving.adapters": "1,2"}, config=CONFIG, params={"serving.adapters": 4})
    with pytest.raises(ValueError, match="serving model"):
        lorasplit.sweep({"serving.adapters": "1,2"})
    with pytest.raises(ValueError, match="shards run on a Dask cluster"):
        lorasplit.sweep(SEED_VARY, shards=2)
    # A key both varied and given (a parameter, a part) is refused, as on the command line.
    with pytest.raises(ValueError, match="both varied"):
        lorasplit.sweep({"link.bandwidth_bytes_per_s": "16GB/s,64GB/s"}, config=CONFIG,
                        params={"link.bandwidth_bytes_per_s": "5GB/s"})
    with pytest.raises(ValueError, match="both varied"):
        lorasplit.sweep({"hardware.gpu": "h100-sxm"}, config=CONFIG, params={"hardware.gpu": "h200-sxm"})


def test_an_empty_shard_keeps_its_column_types():
    empty = lorasplit.sweep(SERVING_VARY, config=CONFIG, shard="1/20")  # 6 points: shard 1 of 20 has none
    full = lorasplit.sweep(SERVING_VARY, config=CONFIG, shard="4/20")
    assert len(empty["status"]) == 0 and len(full["status"]) == 1
    for key in full:
        if isinstance(full[key], np.ndarray) and key != "serving.adapters":  # a workload axis: from its values
            assert empty[key].dtype.kind == full[key].dtype.kind, key
    seed_empty = lorasplit.sweep({"lora.r": "4,8"}, shard="1/5")
    assert seed_empty["status"].dtype.kind == "U" and seed_empty["b1"].dtype == np.int64


def test_to_pandas():
    pd = pytest.importorskip("pandas", reason="python3-pandas is not installed")
    s = lorasplit.sweep(SEED_VARY)
    df = s.to_pandas()
    assert list(df.columns) == list(s)
    assert len(df) == 27
    assert df["lora.r_exact"].iloc[0] == Fraction(2)
    assert (df["status"] == "invalid").sum() == 9  # r = 600 > d
    v = lorasplit.sweep(SERVING_VARY, config=CONFIG).to_pandas()
    assert v["iteration_time_s_exact"].map(type).eq(Fraction).all()
    assert isinstance(v, pd.DataFrame)


@pytest.fixture(scope="module")
def client():
    distributed = pytest.importorskip("distributed", reason="python3-distributed is not installed")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=None, silence_logs=50)
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


@pytest.mark.parametrize("shards", [1, 3, 7, 40])
def test_cluster_equals_local_seed(client, shards):
    same_columns(lorasplit.sweep(SEED_VARY), lorasplit.sweep(SEED_VARY, client=client, shards=shards))


def test_cluster_equals_local_serving(client):
    local = lorasplit.sweep(SERVING_VARY, config=CONFIG)
    same_columns(local, lorasplit.sweep(SERVING_VARY, config=CONFIG, client=client, shards=4))
    same_columns(local, lorasplit.sweep(SERVING_VARY, config=CONFIG, client=client))  # default: 4 per worker
    # Dask's own progress bar (distributed.progress) over the shards' tasks.
    same_columns(local, lorasplit.sweep(SERVING_VARY, config=CONFIG, client=client, shards=2, progress=True))


def test_a_failed_shard_names_itself(client):
    with pytest.raises(lorasplit.ShardError, match=r"sweep shard 3/3 failed: point 3 of 3: .*serving.adapters") as e:
        lorasplit.sweep({"serving.adapters": "1,2,0"}, config=CONFIG, client=client, shards=3)
    assert (e.value.shard, e.value.shards) == (3, 3)
    with pytest.raises(ValueError, match="shards = '0'"):
        lorasplit.sweep(SEED_VARY, client=client, shards=0)
    with pytest.raises(ValueError, match="give shards=N"):
        lorasplit.sweep(SEED_VARY, client=client, shard="1/2")


def test_two_sweeps_at_once_keep_their_own_results(client):
    import threading

    a = {"link.bandwidth_bytes_per_s": "log:1GiB/s:1TiB/s:9", "lora.r": "2,4,8"}
    b = {"lora.r": "2,4,8", "link.bandwidth_bytes_per_s": "log:1GiB/s:1TiB/s:9"}  # the same axes, swapped
    want = {"a": lorasplit.sweep(a), "b": lorasplit.sweep(b)}
    got = {}

    def run(name, vary):
        got[name] = lorasplit.sweep(vary, client=client, shards=5)

    threads = [threading.Thread(target=run, args=("a", a)), threading.Thread(target=run, args=("b", b))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    same_columns(want["a"], got["a"])
    same_columns(want["b"], got["b"])


def test_serving_breakeven_equals_the_cli():
    hand = str(ROOT / "tests" / "data" / "hand_serving.toml")
    b = lorasplit.breakeven("link.latency_s", config=hand, over="gpu_hbm", gain_percent=1)
    out = subprocess.run([CLI, "breakeven", "--config", hand, "--param", "link.latency_s", "--over", "gpu_hbm",
                          "--gain", "1", "--format", "json"], capture_output=True, text=True, check=True)
    assert b.to_dict() == lorasplit._exact(__import__("json").loads(out.stdout))
    assert b.kind == "threshold" and b.baseline == "gpu_hbm"
    with pytest.raises(ValueError, match="a baseline of the serving model"):
        lorasplit.breakeven("link.latency_s", over="gpu_hbm")
