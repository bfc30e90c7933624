"""``jaxmlp train`` on two processes over ``jax.distributed`` (issue #13, part 3): two local
processes with the coordinator on 127.0.0.1 train the model one process trains on two
devices; and every way it can go wrong ends in one clear message, in bounded time, with
nothing written.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_classification

import jaxmlp
from jaxmlp.data.stream import RowGroups
from jaxmlp.workflows.shares import read_rows as shares_read
from jaxmlp.workflows.shares import share_of

pytestmark = pytest.mark.slow

CLI = [sys.executable, "-m", "jaxmlp.cli"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    X, y = make_classification(1001, 6, n_classes=3, n_informative=4, random_state=0)
    df = pd.DataFrame(X, columns=[f"x{i}" for i in range(6)])
    df["label"] = [f"c{v}" for v in y]
    path = tmp_path_factory.mktemp("hosts") / "t.csv"
    df.to_csv(path, index=False)
    return path, df


def train_args(path, out, *extra: str) -> list[str]:
    return [*CLI, "train", str(path), "--target", "label", "--max-iter", "15", "--batch-size",
            "64", "--no-baseline", "--out", str(out), *extra]  # fmt: skip


def processes(port: int, i: int, n: int = 2, timeout: str = "60") -> list[str]:
    return ["--coordinator-address", f"127.0.0.1:{port}", "--num-processes", str(n),
            "--process-id", str(i), "--connect-timeout", timeout]  # fmt: skip


def test_two_processes_reading_their_own_rows_train_the_one_process_model(table, tmp_path):
    path, df = table
    port = free_port()
    env = {**os.environ, "XLA_FLAGS": ""}
    runs = [subprocess.Popen(train_args(path, tmp_path / "two", *processes(port, i)), env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for i in (0, 1)]  # fmt: skip
    outs = [r.communicate(timeout=240) for r in runs]
    for r, (_, err) in zip(runs, outs, strict=True):
        assert r.returncode == 0, err
    # each process trained on (and read the row groups of) its own half of the rows
    assert re.search(r"process 1: trained on its (\d+) of the (\d+) training rows", outs[1][1])
    mine, total = map(int, re.search(r"its (\d+) of the (\d+)", outs[1][1]).groups())
    assert total // 2 - 1 <= mine <= total // 2 + 1
    assert "validation accuracy" in outs[0][0] and not outs[1][0].strip()
    assert "Gloo" not in outs[0][1] + outs[0][0]  # the runtime's chatter is filtered
    # the same command on one process (two simulated devices): the same model
    one = subprocess.run(train_args(path, tmp_path / "one", *processes(free_port(), 0, n=1)),
                         capture_output=True, text=True, timeout=240,
                         env={**os.environ,
                              "XLA_FLAGS": "--xla_force_host_platform_device_count=2"})  # fmt: skip
    assert one.returncode == 0, one.stderr
    a, b = jaxmlp.load(tmp_path / "two"), jaxmlp.load(tmp_path / "one")
    features = df.drop(columns="label")
    np.testing.assert_array_equal(a.predict_proba(features), b.predict_proba(features))
    assert a.estimator.get_params()["devices"] is None  # where it trained is not saved


def test_shares_split_the_training_rows_and_each_reads_only_its_row_groups(table, tmp_path,
                                                                          monkeypatch):  # fmt: skip
    sizes = [300, 300, 300, 101]
    shares = [share_of(sizes, 0, 0.25, p, 3, multiple=2) for p in range(3)]
    train = np.concatenate([s.train for s in shares])
    val = np.concatenate([s.validation for s in shares])
    assert len(set(train)) == len(train) == shares[0].n_train  # disjoint, complete
    assert not set(train) & set(val) and len(train) + len(val) == sum(sizes)
    assert np.all(np.diff(train) > 0)  # contiguous shares in table order
    assert all(s.size % 2 == 0 and len(s.train) <= s.size for s in shares)
    assert [len(s.train) == shares[0].size for s in shares[:-1]] == [True, True]  # padding last
    parquet = tmp_path / "t.parquet"
    _, df = table
    df.to_parquet(parquet, row_group_size=100)
    seen = []
    real = RowGroups.read
    monkeypatch.setattr(
        RowGroups, "read", lambda self, i, c=None: seen.append(i) or real(self, i, c)
    )
    source = RowGroups(parquet)
    first = share_of([p.rows for p in source.pieces], 0, 0.25, 0, 2)
    rows = shares_read(source, first.train, list(source.columns))
    assert len(rows) == len(first.train) and max(seen) <= first.train[-1] // 100
    assert max(seen) < len(source.pieces) - 2  # the second half's row groups were not read


def _bad(tmp_path, path, *extra: str, env: dict | None = None, timeout: int = 60):
    out = tmp_path / "bad"
    began = time.perf_counter()
    done = subprocess.run(train_args(path, out, *extra), capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})})  # fmt: skip
    assert "Traceback" not in done.stderr, done.stderr
    assert not out.exists()
    return done, time.perf_counter() - began


def test_wrong_ids_port_in_use_missing_coordinator_and_too_many_devices(table, tmp_path):
    path, _ = table
    port = free_port()
    done, _ = _bad(tmp_path, path, *processes(port, 2))
    assert done.returncode == 2
    assert "process 2: --process-id must be between 0 and 1 for --num-processes 2" in done.stderr
    # the JAX_* variables stand in for the options
    variables = {"JAX_COORDINATOR_ADDRESS": f"127.0.0.1:{port}", "JAX_NUM_PROCESSES": "2",
                 "JAX_PROCESS_ID": "-1"}  # fmt: skip
    done, _ = _bad(tmp_path, path, env=variables)
    assert done.returncode == 2 and "process -1: --process-id must be between" in done.stderr
    done, _ = _bad(tmp_path, path, "--coordinator-address", "somewhere", "--num-processes", "2",
                   "--process-id", "0")  # fmt: skip
    assert done.returncode == 2 and "'somewhere' is not HOST:PORT" in done.stderr
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        done, _ = _bad(tmp_path, path, *processes(taken, 0))
    assert done.returncode == 2
    assert f"process 0: cannot listen on 127.0.0.1:{taken}" in done.stderr
    done, seconds = _bad(tmp_path, path, *processes(port, 1, timeout="2"))
    assert done.returncode == 2 and seconds < 30
    assert f"process 1: no coordinator answered at 127.0.0.1:{port} within 2 s" in done.stderr
    done, _ = _bad(tmp_path, path, "--devices", "8",
                   env={"XLA_FLAGS": "--xla_force_host_platform_device_count=4"})  # fmt: skip
    assert done.returncode == 2
    assert "--devices 8 but JAX sees 4 cpu device(s); use --devices 4 or fewer" in done.stderr


def test_a_peer_that_never_comes_ends_process_0_with_a_message(table, tmp_path):
    path, _ = table
    done, seconds = _bad(tmp_path, path, *processes(free_port(), 0, timeout="3"))
    assert done.returncode == 1 and seconds < 40
    assert "process 0: JAX's runtime stopped it: not all 2 processes joined" in done.stderr
    assert "Nothing was written" in done.stderr
    assert "Check failure stack trace" not in done.stderr  # the C++ abort is not shown


def _first_line(proc: subprocess.Popen, start: str, timeout: float) -> str | None:
    """The first line of ``proc``'s stdout that starts with ``start`` (read in a thread so
    that a silent process cannot hang the test), or None after ``timeout`` seconds."""
    import queue
    import threading

    lines: queue.Queue[str | None] = queue.Queue()

    def read() -> None:
        for line in proc.stdout:  # type: ignore[union-attr]
            lines.put(line)
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        try:
            line = lines.get(timeout=left)
        except queue.Empty:
            return None
        if line is None:
            return None
        if line.startswith(start):
            return line
    return None


def test_a_peer_dying_mid_run_ends_the_other_within_the_timeout(table, tmp_path):
    path, _ = table
    port = free_port()
    out = tmp_path / "m"
    args = [*CLI, "train", str(path), "--target", "label", "--max-iter", "5000", "--tol", "0",
            "--n-iter-no-change", "100000", "--batch-size", "32", "--no-baseline",
            "--out", str(out)]  # fmt: skip
    first = subprocess.Popen([*args, *processes(port, 0, timeout="5")], stderr=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True,
                             env=os.environ | {"PYTHONUNBUFFERED": "1"})  # fmt: skip
    second = subprocess.Popen([*args, *processes(port, 1, timeout="5")],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)  # fmt: skip
    # process 0 says what it trains on once both have joined and read their rows, right
    # before the fit (5000 epochs take minutes): the peer is killed then, not after a guess
    said = _first_line(first, "jaxmlp train:", timeout=120)
    assert said is not None, "process 0 never said it was training"
    assert first.poll() is None and second.poll() is None
    os.killpg(second.pid, signal.SIGKILL)  # the peer and its child, at once
    began = time.perf_counter()
    first.wait(timeout=120)  # (its stdout is read by _first_line's thread)
    err = first.stderr.read()  # type: ignore[union-attr]
    assert first.returncode == 1, err
    assert time.perf_counter() - began < 30
    assert "process 0: lost contact with the other processes" in err
    assert "Traceback" not in err
    assert not out.exists()


def test_mismatched_counts_and_a_table_one_process_cannot_read(table, tmp_path):
    path, _ = table
    out = tmp_path / "m"
    port = free_port()

    def start(data, i, n):
        args = [*CLI, "train", str(data), "--target", "label", "--max-iter", "5",
                "--no-baseline", "--out", str(out), "--coordinator-address",
                f"127.0.0.1:{port}", "--num-processes", str(n), "--process-id", str(i),
                "--connect-timeout", "5"]  # fmt: skip
        return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)  # fmt: skip

    first, second = start(path, 0, 2), start(path, 1, 3)
    _, err1 = second.communicate(timeout=120)
    _, err0 = first.communicate(timeout=120)
    assert second.returncode == 2
    assert "process 1: --num-processes 3 but the coordinator at" in err1
    assert "runs 2 processes" in err1
    assert first.returncode == 1 and "process 0:" in err0 and "Traceback" not in err0
    assert not out.exists()
    port = free_port()
    first, second = start(path, 0, 2), start(tmp_path / "missing.csv", 1, 2)
    _, err1 = second.communicate(timeout=120)
    _, err0 = first.communicate(timeout=120)
    assert second.returncode == 2
    assert f"process 1: cannot read the table '{tmp_path / 'missing.csv'}'" in err1
    assert first.returncode == 1 and "not all 2 processes joined" in err0
    assert not out.exists()
