"""Past one machine, measured on one: streaming vs in-memory, one fit on 1/2/4 devices, and
a sweep's blocks on joblib's local processes, Dask and Ray (issue #13).

On a 2-core machine with no GPU these are *simulations and overheads*, labelled so:
the devices are CPU devices forced by ``--xla_force_host_platform_device_count`` sharing the
same two cores, and Dask / Ray run on 127.0.0.1 -- what they show is the cost of the
machinery (collectives, task shipping, worker start-up), not a speed-up.

    .venv/bin/python benchmarks/bench_scale.py [--quick]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from bench_output import of, write_results

PY = sys.executable
REPEATS = 5


def child(code: str, env: dict | None = None, timeout: int = 900) -> dict:
    done = subprocess.run([PY, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})})  # fmt: skip
    if done.returncode:
        raise RuntimeError(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def make_table(folder: Path, rows: int) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = folder / "table.parquet"
    schema = pa.schema([(f"x{i}", pa.float32()) for i in range(16)] + [("label", pa.int32())])
    rng = np.random.default_rng(0)
    with pq.ParquetWriter(path, schema) as writer:
        for start in range(0, rows, 262_144):
            n = min(262_144, rows - start)
            X = rng.standard_normal((n, 16), dtype=np.float32)
            y = (X[:, 0] + X[:, 1] * X[:, 2] > 0).astype(np.int32)
            writer.write_table(pa.table({**{f"x{i}": X[:, i] for i in range(16)}, "label": y},
                                        schema=schema), row_group_size=65_536)  # fmt: skip
    return path


def streaming(path: Path, rows: int) -> tuple[list[str], dict]:
    """Same rows, same model, 3 epochs, warm (a first call compiled): in memory
    (read whole, ``MLPClassifier.fit``) vs ``--stream``'s path; peak RSS of a process that
    makes one such fit (imports, reading, compiling and training)."""
    code = """
        import json, resource, time, warnings
        import numpy as np, pandas as pd
        warnings.simplefilter("ignore")
        import jaxmlp, jaxmlp.workflows.stream as ws
        from jaxmlp.workflows.table import TableTrainConfig
        params = dict(hidden_layer_sizes=(64,), max_iter=3, batch_size=1024, random_state=0,
                      tol=0.0)
        times = []
        for run in range({runs}):
            t = time.perf_counter()
            {body}
            times.append(time.perf_counter() - t)
        print(json.dumps({{"times": times[1:],
                          "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}}))
    """
    memory = """df = pd.read_parquet({path!r}); X = df.drop(columns="label").to_numpy(); \
jaxmlp.MLPClassifier(**params).fit(X, df["label"].to_numpy())"""
    streamed = """ws.train_table_stream(TableTrainConfig({path!r}, "label", params, stream=True))"""
    out, lines = {}, []
    for name, body in (("in memory", memory), ("streamed", streamed)):
        r = child(code.format(runs=REPEATS + 1, body=body.format(path=str(path))))
        once = child(code.format(runs=1, body=body.format(path=str(path))))  # peak of one fit
        t = of(r["times"])
        out[name] = {"seconds": list(r["times"]), "rss_bytes": once["rss"]}
        lines.append(f"| {name} | {t} | {3 * rows / t.median / 1e6:.2f} M rows/s | "
                     f"{once['rss'] / 2**20:.0f} MiB |")  # fmt: skip
    return lines, out


def devices(quick: bool) -> tuple[list[str], dict]:
    """One fit, 200,000 x 32 -> (256, 256) -> 2, adam, batch 1024, 3 epochs, on 1/2/4
    simulated CPU devices (each batch split over them; gradients all-reduced)."""
    code = """
        import json, time, warnings
        import numpy as np, jaxmlp
        warnings.simplefilter("ignore")
        rng = np.random.default_rng(0)
        X = rng.standard_normal((200_000, 32), dtype=np.float32); y = (X[:, 0] > 0).astype(int)
        kw = dict(hidden_layer_sizes=(256, 256), max_iter=3, batch_size=1024, random_state=0,
                  tol=0.0, devices={n} if {n} > 1 else None)
        times = []
        for _ in range({runs}):
            t = time.perf_counter(); jaxmlp.MLPClassifier(**kw).fit(X, y)
            times.append(time.perf_counter() - t)
        print(json.dumps({{"times": times[1:]}}))
    """
    out, lines = {}, []
    for n in (1, 2, 4):
        flags = {"XLA_FLAGS": f"--xla_force_host_platform_device_count={n}"}
        r = child(code.format(n=n, runs=3 if quick else REPEATS + 1), flags)
        out[str(n)] = r["times"]
        lines.append(f"| {n} (simulated) | {of(r['times'])} |")
    return lines, out


def sweeps(quick: bool) -> tuple[list[str], dict]:
    """``fit_many`` of 64 tutorial models, 100 epochs: in this process, in two joblib
    processes, on a two-worker Dask LocalCluster and on Ray with two CPUs, all on
    127.0.0.1. The cluster rows are the backends' overhead on one machine."""
    code = """
        import json, time, warnings
        import numpy as np, joblib
        from jaxmlp import TrainConfig, fit_many, mlp
        from jaxmlp.data.toy import tutorial_split
        from jaxmlp.workflows.clusters import parallel_backend
        def main():
            split, cfg = tutorial_split(), TrainConfig(epochs=100, batch_size=32)
            kw = dict(seeds=np.arange(64), learning_rate=np.linspace(0.01, 0.2, 64))
            times = []
            with parallel_backend({backend!r}, None, 2) as n:
                for _ in range({runs}):
                    t = time.perf_counter()
                    fit_many(mlp((64,)), split, cfg, n_jobs={jobs}, **kw)
                    times.append(time.perf_counter() - t)
            print(json.dumps({{"first": times[0], "times": times[1:]}}))
        if __name__ == "__main__":
            main()
    """
    out, lines = {}, []
    rows = (("in this process (models_per_program auto)", "local", "None"),
            ("2 joblib processes (loky)", "local", "2"),
            ("Dask LocalCluster, 2 workers, 127.0.0.1", "dask", "n"),
            ("Ray, 2 CPUs, 127.0.0.1", "ray", "n"))  # fmt: skip
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "sweep.py"
        for name, backend, jobs in rows:
            runs = 3 if quick else REPEATS + 1
            script.write_text(textwrap.dedent(code.format(backend=backend, runs=runs, jobs=jobs)))
            done = subprocess.run([PY, str(script)], capture_output=True, text=True, timeout=1800)
            if done.returncode:
                raise RuntimeError(done.stderr[-3000:])
            r = json.loads(done.stdout.strip().splitlines()[-1])
            out[name] = r
            lines.append(f"| {name} | {r['first']:.2f} s | {of(r['times'])} |")
    return lines, out


def main() -> None:
    quick = "--quick" in sys.argv
    rows = 2_000_000 if quick else 8_000_000
    with tempfile.TemporaryDirectory() as folder:
        path = make_table(Path(folder), rows)
        size = path.stat().st_size
        s_lines, s_out = streaming(path, rows)
    d_lines, d_out = devices(quick)
    w_lines, w_out = sweeps(quick)
    text = "\n".join([
        f"Streaming vs in memory: {rows:,} rows x 16 float32 features ({size / 1e6:.0f} MB of "
        "Parquet), (64,) hidden, adam, batch 1024, 3 epochs, warm; peak RSS of a process making "
        "one such fit",
        "", "| path | time | throughput | peak RSS |", "|---|---:|---:|---:|", *s_lines, "",
        "One fit on 1, 2, 4 devices -- SIMULATED: CPU devices forced by XLA_FLAGS on the same "
        "2 cores (the collectives' cost, not a speed-up); 200,000 x 32 -> (256, 256), adam, "
        "batch 1024, 3 epochs", "", "| devices | time |", "|---|---:|", *d_lines, "",
        "A sweep of 64 tutorial models (100 epochs) -- on 127.0.0.1, so the cluster rows are "
        "OVERHEAD (task shipping, worker start-up, compilation per worker), not speed-up", "",
        "| where | first call | later calls |", "|---|---:|---:|", *w_lines,
    ])  # fmt: skip
    write_results(
        "scale",
        "Past one machine, on one machine",
        text,
        {"streaming": s_out, "file_bytes": size, "devices": d_out, "sweeps": w_out},
    )


if __name__ == "__main__":
    main()
