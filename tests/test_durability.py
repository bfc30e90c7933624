"""A save that no crash can lose: processes killed with SIGKILL at random moments spread
over whole saves -- every file write, fsync, the folder exchange (or both renames of the
fallback) and the clean-up -- and after each, the path holds the old model or the new one,
complete; the next save removes what the crash left.

The saving child logs every filesystem step it takes (before and after it, with a small
random pause) to a file, and holds still once it has logged the step drawn for this run;
the parent kills it there, so the kill points cover every step of the save, not one --
however loaded the machine (a kill timed from the parent's side drifted past the steps it
aimed at when CI ran other tests beside it).
"""

from __future__ import annotations

import os
import pickle
import random
import signal
import subprocess
import sys
import time
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

import jaxmlp
from jaxmlp.core import durable
from jaxmlp.io.files import atomic_write

# the child: wrap every filesystem step in a logged, randomly paused call
STEPS = """
import os, random, shutil, sys, time
from jaxmlp.core import durable
log = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
rng = random.Random(int(sys.argv[2]))
HOLD = int(os.environ["HOLD_AT"])  # the step after which the parent kills us
count = [0]

def mark(line):
    os.write(log, line.encode())
    count[0] += 1
    time.sleep(600 if count[0] == HOLD else rng.uniform(0.003, 0.006))

def logged(name, fn):
    def wrapper(*args, **kwargs):
        mark(f"before {name}\\n")
        out = fn(*args, **kwargs)
        mark(f"after {name}\\n")
        return out
    return wrapper

for name in ("open", "rename", "replace", "fsync", "mkdir"):
    setattr(os, name, logged(name, getattr(os, name)))
shutil.rmtree = logged("rmtree", shutil.rmtree)
if sys.argv[3] == "fallback":  # a platform without renameat2(RENAME_EXCHANGE)
    durable.exchange = logged("exchange", lambda a, b: False)
else:
    durable.exchange = logged("exchange", durable.exchange)
"""

SAVE_CHILD = (
    STEPS
    + """
import pickle, jaxmlp
models = [pickle.loads(open(p, "rb").read()) for p in sys.argv[5:7]]
print("ready", flush=True)
i = 0
while True:
    jaxmlp.save(models[(i + 1) % 2], sys.argv[4], overwrite=True)  # the other one first
    i += 1
"""
)

WRITE_CHILD = (
    STEPS
    + """
from jaxmlp.io.files import atomic_write
payloads = [open(p, "rb").read() for p in sys.argv[5:7]]
print("ready", flush=True)
i = 0
while True:
    atomic_write(sys.argv[4], payloads[(i + 1) % 2])
    i += 1
"""
)


def _kill_at_step(script: str, args: list[str], log: Path, rng: random.Random,
                  target: int) -> str:  # fmt: skip
    """Run the child until it has logged ``target`` steps (it holds still there), kill it
    with SIGKILL, and return the last step it logged."""
    log.write_text("")
    proc = subprocess.Popen([sys.executable, "-c", script, str(log), str(rng.randrange(1 << 30)),
                             *args], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "HOLD_AT": str(target)})  # fmt: skip
    try:
        assert proc.stdout.readline().strip() == "ready"
        deadline = time.monotonic() + 60
        while log.read_text().count("\n") < target:
            assert time.monotonic() < deadline and proc.poll() is None, "the child stalled"
            time.sleep(0.0005)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
    lines = log.read_text().splitlines()
    return lines[-1] if lines else "start"


@pytest.fixture(scope="module")
def two_models(tmp_path_factory):
    """Two different fitted classifiers, pickled for the child, with their predictions."""
    from sklearn.datasets import load_iris

    X, y = load_iris(return_X_y=True)
    folder = tmp_path_factory.mktemp("models")
    out = []
    for seed in (0, 1):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            est = jaxmlp.MLPClassifier((64, 64), max_iter=5, random_state=seed).fit(X, y)
        path = folder / f"model{seed}.pkl"
        path.write_bytes(pickle.dumps(est))
        out.append((est, path, est.predict_proba(X)))
    return X, out


@pytest.mark.slow
@pytest.mark.parametrize(("mode", "trials", "steps"), [("exchange", 50, 29), ("fallback", 40, 37)])
def test_a_killed_save_never_loses_the_model(tmp_path, two_models, mode, trials, steps):
    X, models = two_models
    target = tmp_path / "model"
    jaxmlp.save(models[0][0], target)
    rng = random.Random(1234 if mode == "exchange" else 99)
    where = Counter()
    seen = Counter()
    args = [mode, str(target), str(models[0][1]), str(models[1][1])]
    span = steps * 3 // 2  # a save logs `steps` lines: kill points over one and a half saves
    for k in range(trials):
        step = 1 + (k * 7) % span  # 7 and span coprime: every step in turn
        where[_kill_at_step(SAVE_CHILD, args, tmp_path / "log", rng, step)] += 1
        got = jaxmlp.load(target).predict_proba(X)  # recovers a fallback cut in half
        matches = [m for m, (_, _, p) in enumerate(models) if np.array_equal(got, p)]
        assert matches, "the model at the path is neither the old nor the new one"
        seen[matches[0]] += 1
    if mode == "exchange":  # killed right before and right after the swap
        assert where["before exchange"] and where["after exchange"], where
    else:  # killed between the two renames: the path named nothing until load recovered it
        assert where["after rename"], where
    assert len(where) >= 8, where  # kills spread over the steps of the save
    assert set(seen) == {0, 1}
    jaxmlp.save(models[1][0], target, overwrite=True)  # cleans what the crashes left
    assert sorted(p.name for p in tmp_path.iterdir()) == ["log", "model"]


@pytest.mark.slow
def test_a_killed_atomic_write_never_loses_the_file(tmp_path):
    """The same for files (``atomic_write``: report.html, predict --out, summary.json)."""
    payloads = [bytes([k]) * (4 << 20) for k in (1, 2)]  # 4 MiB each, distinct
    files = []
    for k, data in enumerate(payloads):
        files.append(tmp_path / f"payload{k}")
        files[-1].write_bytes(data)
    target = tmp_path / "predictions.csv"
    atomic_write(target, payloads[0])
    rng = random.Random(7)
    where = Counter()
    for k in range(50):
        args = ["exchange", str(target), *map(str, files)]
        where[_kill_at_step(WRITE_CHILD, args, tmp_path / "log", rng, 1 + k % 16)] += 1
        assert target.read_bytes() in payloads
    assert where["before replace"] + where["after replace"] >= 1 and len(where) >= 4, where
    atomic_write(target, b"done")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["log", "payload0", "payload1",
                                                          "predictions.csv"]  # fmt: skip


def _dead_pid() -> int:
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    return int(proc.stdout)


def test_load_recovers_a_fallback_replacement_cut_between_its_renames(tmp_path, two_models):
    _, models = two_models
    target = tmp_path / "model"
    jaxmlp.save(models[0][0], target)
    aside = tmp_path / f".model.old-{_dead_pid()}-0123abcd"
    os.rename(target, aside)  # the process died after the first rename
    X = two_models[0]
    np.testing.assert_array_equal(jaxmlp.load(target).predict_proba(X), models[0][2])
    assert target.is_dir() and not aside.exists()


def test_temporary_folders_are_never_taken_for_a_model(tmp_path, two_models):
    _, models = two_models
    jaxmlp.save(models[0][0], tmp_path / "model")
    stale = tmp_path / f".model.saving-{_dead_pid()}-0123abcd"
    os.rename(tmp_path / "model", stale)
    with pytest.raises(jaxmlp.ModelFileError, match="temporary folder"):
        jaxmlp.load(stale)
    with pytest.raises(jaxmlp.ModelFileError, match="does not exist"):
        jaxmlp.load(tmp_path / "model")  # a stale '.saving' folder is not recovered
    live = tmp_path / f".model.saving-{os.getpid()}-89abcdef"
    live.mkdir()  # another save in progress (this process is alive)
    jaxmlp.save(models[1][0], tmp_path / "model")
    assert not stale.exists() and live.exists()  # only the dead process's leftovers go
    assert durable.is_temporary(live) and not durable.is_temporary(tmp_path / "model")


def test_files_keep_the_umask_permissions(tmp_path, two_models):
    jaxmlp.save(two_models[1][0][0], tmp_path / "model")
    modes = {p.name: p.stat().st_mode & 0o777 for p in (tmp_path / "model").iterdir()}
    umask = os.umask(0)
    os.umask(umask)
    assert set(modes.values()) == {0o666 & ~umask}, modes


def _recorded_save(monkeypatch, model, target: Path, exchange: bool = True) -> list[tuple]:
    """``jaxmlp.save(model, target, overwrite=True)`` with every fsync (by the path of its
    file descriptor), rename, replace and exchange recorded in order."""
    events: list[tuple] = []
    real_fsync, real_rename, real_replace = os.fsync, os.rename, os.replace
    real_exchange = durable.exchange

    def fsync(fd):
        events.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
        return real_fsync(fd)

    def rename(a, b):
        events.append(("rename", str(a), str(b)))
        return real_rename(a, b)

    def replace(a, b):
        events.append(("replace", str(a), str(b)))
        return real_replace(a, b)

    def swap(a, b):
        done = real_exchange(a, b) if exchange else False
        events.append(("exchange", str(a), str(b), done))
        return done

    with monkeypatch.context() as m:
        m.setattr(os, "fsync", fsync)
        m.setattr(os, "rename", rename)
        m.setattr(os, "replace", replace)
        m.setattr(durable, "exchange", swap)
        jaxmlp.save(model, target, overwrite=True)
    return events


def _unsynced(events: list[tuple], target: Path) -> list[str]:
    """What a power cut could lose in a recorded save of ``target``: each file of the new
    folder and the folder itself must be fsynced before a rename or exchange gives it the
    name ``target``, the parent folder after it (that makes the rename durable), and in
    the fallback also between moving the old folder aside and moving the new one in."""
    target = target.resolve()
    commit = next(i for i, e in enumerate(events)
                  if ((e[0] == "exchange" and e[3]) or e[0] == "rename")
                  and Path(e[2]).resolve() == target and not Path(e[1]).name.startswith(
                      f".{target.name}.old"))  # fmt: skip
    tmp = Path(events[commit][1]).resolve()
    synced_before = {Path(e[1]) for e in events[:commit] if e[0] == "fsync"}
    missing = [f"file {name} before it is named" for name in sorted(os.listdir(target))
               if tmp / name not in synced_before]  # fmt: skip
    if tmp not in synced_before:
        missing.append("the new folder before it is named")
    if not any(e == ("fsync", str(target.parent)) for e in events[commit + 1 :]):
        missing.append("the parent folder after the new folder is named")
    aside = [i for i, e in enumerate(events[:commit])
             if e[0] == "rename" and Path(e[1]).resolve() == target]  # fmt: skip
    if aside and not any(e == ("fsync", str(target.parent)) for e in events[aside[0] : commit]):
        missing.append("the parent folder between the fallback's two renames")
    return missing


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc to name fds")
@pytest.mark.parametrize("exchange", [True, False], ids=["exchange", "fallback"])
def test_a_save_fsyncs_every_file_and_folder_before_a_rename_names_them(
    tmp_path, two_models, monkeypatch, exchange
):
    """The order of a save's fsyncs and renames, not only its outcome after kills (a save
    with any fsync removed passes the kill test: SIGKILL does not lose the page cache);
    and where the kernel can swap two folders (renameat2), the save takes that path."""
    _, models = two_models
    target = tmp_path / "model"
    jaxmlp.save(models[0][0], target)
    events = _recorded_save(monkeypatch, models[1][0], target, exchange)
    assert _unsynced(events, target) == []
    swaps = [e for e in events if e[0] == "exchange"]
    assert len(swaps) == 1
    if exchange:
        probe = [tmp_path / "a", tmp_path / "b"]
        for p in probe:
            p.mkdir()
        if durable.exchange(*probe):  # this kernel and filesystem can: the save did too
            assert swaps[0][3] is True
    else:
        assert any(e[0] == "rename" and Path(e[2]).name.startswith(".model.old")
                   for e in events)  # fmt: skip

    # the checker catches a save that skips the folders' fsyncs, or the files'
    with monkeypatch.context() as m:
        m.setattr(durable, "fsync_path", lambda path: None)
        events = _recorded_save(monkeypatch, models[0][0], target, exchange)
    assert "the new folder before it is named" in _unsynced(events, target)
    assert "the parent folder after the new folder is named" in _unsynced(events, target)
    from jaxmlp.io import model_files

    def unsynced_write(path, data):
        path.write_bytes(data)

    with monkeypatch.context() as m:
        m.setattr(model_files, "_write_synced", unsynced_write)
        events = _recorded_save(monkeypatch, models[1][0], target, exchange)
    assert {"file arrays.safetensors before it is named", "file model.json before it is named"
            } <= set(_unsynced(events, target))  # fmt: skip
