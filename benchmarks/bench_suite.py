"""``jaxmlp train`` with no flags against scikit-learn on real public tables (issue #20).

For each table of :mod:`suite_tables` and each split (seeds 0, 1, 2: shuffled 75 / 25,
stratified for classification, rows with a missing target dropped) the train and test rows
are written to train.csv and test.csv in a temporary folder, then:

- **jaxmlp**: ``jaxmlp train train.csv --target T --test-file test.csv --no-baseline --json
  --out MODEL --force --quiet`` in a fresh process (wall time from start to exit); its
  validation accuracy or R² (on test.csv) is the score. Then ``jaxmlp predict MODEL test.csv
  --out pred.csv``: a refusal, a wrong row count, or predictions whose score (computed here)
  differs from the reported one by more than 1e-6 is an error: recorded in suite.json and
  suite.md, and the script exits with status 1 at the end.
- **baselines**, in this process, on the same files: one ColumnTransformer
  (:mod:`suite_sklearn`) before ``HistGradientBoostingClassifier/Regressor`` (defaults,
  ``random_state=seed``) and before scikit-learn's ``MLPClassifier/MLPRegressor`` (defaults,
  ``max_iter=200``, ``random_state=seed``; the regression target standardised).
- **a plain scikit-learn script** (``suite_sklearn.py``: read_csv, the ColumnTransformer,
  HistGradientBoosting fit + predict) in a fresh process, timed like the jaxmlp command.
- with ``--torch``: pytabkit's RealMLP-TD and TabM-D (CPU, 2 threads) on tables with at most
  ``--torch-max-rows`` training rows (numbers median-imputed, dates as calendar numbers,
  text as categories).

Results: ``--out``/suite.json (every raw number) and suite.md (one row per table, then the
summary). Progress goes to stderr.

    .venv/bin/python benchmarks/bench_suite.py                       # all tables, 3 splits
    .venv/bin/python benchmarks/bench_suite.py --tables penguins,wine --splits 1
    .venv/bin/python benchmarks/bench_suite.py --jaxmlp-args "--max-iter 400" --out /tmp/s
    .venv/bin/python benchmarks/bench_suite.py --tables diamonds,flights --splits 1 --update

``--jaxmlp-src DIR`` runs jaxmlp from another source tree (put first on ``PYTHONPATH``), e.g.
a committed revision while the working tree is being edited::

    git archive HEAD src | tar -x -C /tmp/head
    .venv/bin/python benchmarks/bench_suite.py --jaxmlp-src /tmp/head/src --jaxmlp-label abc1234

``--markdown-only`` rewrites suite.md from suite.json. ``OMP_WAIT_POLICY=PASSIVE`` is set
for scikit-learn (see the comment at the imports).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

# Before scikit-learn loads OpenMP: its worker threads sleep instead of spinning while they
# wait. On a busy 2-core machine spinning threads made HistGradientBoosting 20-50x slower
# (82 s instead of 1.7 s on 1,100 rows); XLA (jaxmlp) does not use OpenMP. The variable is
# inherited by every process started here. Export OMP_WAIT_POLICY=ACTIVE to measure without.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
import suite_sklearn
from suite_tables import SuiteTable, splits, suite_tables, table_named

PY = sys.executable
JAXMLP = str(Path(PY).with_name("jaxmlp"))
SCRIPT = str(Path(__file__).with_name("suite_sklearn.py"))
ROOT = Path(__file__).resolve().parent.parent
TOLERANCE = 1e-6
WITHIN, BELOW = 0.01, 0.03
BIG_ROWS = 100_000  # the ">= 100k rows" criterion
Result = dict[str, Any]


# ---------------------------------------------------------------- subprocesses


def timed_run(command: list[str], timeout: float, env: dict[str, str] | None = None) -> Result:
    """Run ``command`` in a fresh process; its wall time, exit status and output.

    Parameters
    ----------
    command : list of str
        The program and its arguments.
    timeout : float
        Seconds before the process is killed (then ``returncode`` is None).
    env : dict, optional
        The environment (default: this process's).

    Returns
    -------
    dict
        ``seconds``, ``returncode``, ``stdout``, ``stderr``.
    """
    t0 = time.perf_counter()
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired as exc:
        return {"seconds": time.perf_counter() - t0, "returncode": None,
                "stdout": _text(exc.stdout),
                "stderr": f"timed out after {timeout:.0f} s"}  # fmt: skip
    return {"seconds": time.perf_counter() - t0, "returncode": done.returncode,
            "stdout": done.stdout, "stderr": done.stderr}  # fmt: skip


def _text(output: str | bytes | None) -> str:
    return output.decode(errors="replace") if isinstance(output, bytes) else output or ""


def _failure(what: str, run: Result) -> str:
    """One line saying how ``run`` failed, with the end of its stderr."""
    tail = run["stderr"].strip().splitlines()[-3:]
    status = "timed out" if run["returncode"] is None else f"exit {run['returncode']}"
    return f"{what}: {status}: " + " | ".join(tail)


def jaxmlp_env(src: str | None) -> dict[str, str] | None:
    """The environment for jaxmlp's processes: ``src`` first on PYTHONPATH, when given."""
    if src is None:
        return None
    path = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": src if not path else f"{src}{os.pathsep}{path}"}


# ---------------------------------------------------------------- jaxmlp


def jaxmlp_train(table: SuiteTable, folder: Path, extra: list[str], timeout: float,
                 env: dict[str, str] | None, test_file: bool = True) -> Result:  # fmt: skip
    """``jaxmlp train`` on folder/train.csv, validated on folder/test.csv (``test_file``;
    else on what it holds out of train.csv itself, or out of fold: then ``score`` is None
    until ``jaxmlp predict`` scores test.csv).

    Returns
    -------
    dict
        ``seconds`` (wall time of the process), ``score`` (validation accuracy or R², None
        on failure), ``task`` and ``validation`` (as reported), ``fit_time_s``; ``error``
        when the command failed or reported another task.
    """
    scored_on = ["--test-file", str(folder / "test.csv")] if test_file else []
    command = [JAXMLP, "train", str(folder / "train.csv"), "--target", table.target,
               *scored_on, "--no-baseline", "--json", "--out", str(folder / "model"),
               "--force", "--quiet", *extra]  # fmt: skip
    run = timed_run(command, timeout, env)
    out: Result = {"seconds": run["seconds"], "score": None}
    if run["returncode"] != 0:
        return {**out, "error": _failure("jaxmlp train", run)}
    try:
        summary = json.loads(run["stdout"][run["stdout"].index("{") :])
    except ValueError:
        return {**out, "error": f"jaxmlp train: no JSON on stdout: {run['stdout'][-300:]!r}"}
    validation = summary.get("validation") or {}
    out |= {"task": summary.get("task"), "validation": validation,
            "fit_time_s": summary.get("fit_time_s")}  # fmt: skip
    key = "accuracy" if table.task == "classification" else "r2"
    if summary.get("task") != table.task or key not in validation:
        return {**out, "error": f"jaxmlp train: task {summary.get('task')!r} "
                                f"(expected {table.task!r}), validation {validation}"}  # fmt: skip
    out["reported"] = float(validation[key])  # its own validation: test.csv, or not
    out["scored"] = summary.get("scored")
    return {**out, "score": out["reported"] if test_file else None}


def _same_labels(predicted: pd.Series, truth: pd.Series) -> np.ndarray:
    """Element-wise equality of labels read from two CSVs (numbers compared as numbers)."""
    if pd.api.types.is_numeric_dtype(predicted) and pd.api.types.is_numeric_dtype(truth):
        return predicted.to_numpy(dtype=float) == truth.to_numpy(dtype=float)
    return predicted.astype(str).to_numpy() == truth.astype(str).to_numpy()


def _predicted_column(frame: pd.DataFrame, target: str) -> pd.Series:
    """The prediction column of ``jaxmlp predict``'s output."""
    for name in (f"predicted_{target}", target):
        if name in frame.columns:
            return frame[name]
    return frame.iloc[:, 0]


def jaxmlp_predict(table: SuiteTable, folder: Path, test: pd.DataFrame, reported: float | None,
                   timeout: float, env: dict[str, str] | None) -> Result:  # fmt: skip
    """``jaxmlp predict`` with the trained model on test.csv, checked.

    Returns
    -------
    dict
        ``seconds``, ``rows``, ``score`` (computed here from the predictions) and ``error``
        when predict refused, returned another number of rows, or its score differs from
        the one train reported by more than TOLERANCE.
    """
    pred_csv = folder / "pred.csv"
    command = [JAXMLP, "predict", str(folder / "model"), str(folder / "test.csv"),
               "--out", str(pred_csv), "--force"]  # fmt: skip
    run = timed_run(command, timeout, env)
    out: Result = {"seconds": run["seconds"]}
    if run["returncode"] != 0:
        return {**out, "error": _failure("jaxmlp predict refused the model", run)}
    predicted = _predicted_column(pd.read_csv(pred_csv), table.target)
    truth = pd.read_csv(folder / "test.csv")[table.target]
    out["rows"] = len(predicted)
    if len(predicted) != len(test):
        return {**out, "error": f"jaxmlp predict: {len(predicted)} rows for {len(test)}"}
    if table.task == "classification":
        value = float(np.mean(_same_labels(predicted, truth)))
    else:
        value = suite_sklearn.score("regression", truth, predicted)
    out["score"] = value
    if reported is not None and abs(value - reported) > TOLERANCE:
        return {**out, "error": f"jaxmlp predict: score {value:.6f} from the predictions, "
                                f"{reported:.6f} reported by train"}  # fmt: skip
    return out


# ---------------------------------------------------------------- baselines


def in_process(make: Callable[[str, int], Any], table: SuiteTable, train: pd.DataFrame,
               test: pd.DataFrame, seed: int) -> Result:  # fmt: skip
    """Fit ``make(task, seed)`` behind the suite's preprocessing; score and seconds."""
    from sklearn.exceptions import ConvergenceWarning

    t0 = time.perf_counter()
    with warnings.catch_warnings():  # n_iter is recorded: 200 means it did not converge
        warnings.simplefilter("ignore", ConvergenceWarning)
        value, pipe = suite_sklearn.fit_score(make(table.task, seed), train, test, table.target,
                                              table.task)  # fmt: skip
    model = pipe[-1]
    model = getattr(model, "regressor_", model)
    return {"score": value, "seconds": time.perf_counter() - t0,
            "n_iter": int(getattr(model, "n_iter_", 0))}  # fmt: skip


def plain_script(table: SuiteTable, folder: Path, seed: int, timeout: float) -> Result:
    """The plain scikit-learn script (``suite_sklearn.py``) in a fresh process."""
    run = timed_run([PY, SCRIPT, str(folder / "train.csv"), str(folder / "test.csv"),
                     table.target, table.task, str(seed)], timeout)  # fmt: skip
    if run["returncode"] != 0:
        return {"seconds": run["seconds"], "score": None,
                "error": _failure("scikit-learn script", run)}  # fmt: skip
    inner = json.loads(run["stdout"].strip().splitlines()[-1])
    return {"seconds": run["seconds"], "score": inner["score"], "inner_s": inner["seconds"]}


def _torch_frame(frame: pd.DataFrame, kinds: dict[str, list[str]],
                 medians: pd.Series) -> pd.DataFrame:  # fmt: skip
    """pytabkit's input: numbers (median-imputed), calendar numbers, categories."""
    parts = [frame[kinds["numeric"]].astype(float).fillna(medians)]
    if kinds["date"]:
        days = suite_sklearn.calendar(frame[kinds["date"]])
        names = [f"{c}_{p}" for c in kinds["date"] for p in ("y", "m", "doy", "wd")]
        parts.append(pd.DataFrame(days, columns=names, index=frame.index).fillna(0.0))
    for name in kinds["categorical"]:
        parts.append(frame[[name]].astype(object).fillna("missing").astype(str).astype("category"))
    return pd.concat(parts, axis=1)


def torch_model(name: str, table: SuiteTable, train: pd.DataFrame, test: pd.DataFrame,
                seed: int) -> Result:  # fmt: skip
    """pytabkit's ``RealMLP_TD_*`` or ``TabM_D_*`` (defaults, CPU, 2 threads)."""
    import logging

    import pytabkit

    for logger in ("lightning", "lightning.pytorch", "pytorch_lightning"):
        logging.getLogger(logger).setLevel(logging.ERROR)
    kind = "Classifier" if table.task == "classification" else "Regressor"
    model = getattr(pytabkit, f"{name}_{kind}")(device="cpu", n_threads=2, random_state=seed)
    kinds = suite_sklearn.column_kinds(train, table.target)
    medians = train[kinds["numeric"]].astype(float).median()
    X, Xt = (_torch_frame(f, kinds, medians) for f in (train, test))
    y = train[table.target]
    y = y.to_numpy(dtype=float) if table.task == "regression" else y.astype(str).to_numpy()
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, y, cat_col_names=kinds["categorical"])
        predicted = model.predict(Xt)
    truth = test[table.target]
    truth = truth if table.task == "regression" else truth.astype(str)
    return {"score": suite_sklearn.score(table.task, truth, predicted),
            "seconds": time.perf_counter() - t0}  # fmt: skip


def guarded(fn: Callable[[], Result]) -> Result:
    """``fn()``, or ``{"score": None, "error": ...}`` when it raises."""
    try:
        return fn()
    except Exception as exc:  # a baseline's failure is recorded, not fatal
        return {"score": None, "error": f"{type(exc).__name__}: {exc}"[:500]}


# ---------------------------------------------------------------- one table


def run_split(table: SuiteTable, seed: int, train: pd.DataFrame, test: pd.DataFrame,
              args: argparse.Namespace) -> Result:  # fmt: skip
    """Every row of one split of ``table`` (see the module's docstring)."""
    env = jaxmlp_env(args.jaxmlp_src)
    extra = shlex.split(args.jaxmlp_args)
    with tempfile.TemporaryDirectory(prefix=f"suite-{table.name}-") as tmp:
        folder = Path(tmp)
        train.to_csv(folder / "train.csv", index=False)
        test.to_csv(folder / "test.csv", index=False)
        result: Result = {"seed": seed, "n_train": len(train), "n_test": len(test),
                          "load_before": os.getloadavg()[0]}  # fmt: skip
        result["jaxmlp"] = jaxmlp_train(table, folder, extra, args.timeout, env,
                                        not args.no_test_file)  # fmt: skip
        if "error" not in result["jaxmlp"]:
            result["jaxmlp_predict"] = jaxmlp_predict(table, folder, test,
                                                      result["jaxmlp"]["score"], args.timeout,
                                                      env)  # fmt: skip
            if args.no_test_file:  # scored by its predictions of the untouched test.csv
                result["jaxmlp"]["score"] = result["jaxmlp_predict"].get("score")
        result["script"] = plain_script(table, folder, seed, args.timeout)
        # the baselines read the same files back, as the two processes did
        train_back, test_back = pd.read_csv(folder / "train.csv"), pd.read_csv(folder / "test.csv")
    result["hgb"] = guarded(lambda: in_process(suite_sklearn.hgb, table, train_back, test_back,
                                               seed))  # fmt: skip
    result["mlp"] = guarded(lambda: in_process(suite_sklearn.mlp, table, train_back, test_back,
                                               seed))  # fmt: skip
    if args.torch and len(train) <= args.torch_max_rows:
        for name, key in (("RealMLP_TD", "realmlp"), ("TabM_D", "tabm")):
            result[key] = guarded(lambda name=name: torch_model(name, table, train_back,
                                                                test_back, seed))  # fmt: skip
    result["load_after"] = os.getloadavg()[0]
    return result


def split_errors(result: Result) -> list[str]:
    """The jaxmlp errors (train, predict) of one split."""
    parts = (result.get("jaxmlp", {}), result.get("jaxmlp_predict", {}))
    return [part["error"] for part in parts if "error" in part]


def run_table(table: SuiteTable, n_splits: int, args: argparse.Namespace) -> Result:
    """All splits of ``table``; prints a progress line per split to stderr."""
    t0 = time.perf_counter()
    frame = table.frame()
    rows = int(frame[table.target].notna().sum())
    out: Result = {"name": table.name, "source": table.source, "target": table.target,
                   "task": table.task, "rows": rows, "columns": frame.shape[1] - 1,
                   "splits": []}  # fmt: skip
    for seed, train, test in splits(table, n_splits):
        result = run_split(table, seed, train, test, args)
        out["splits"].append(result)
        _progress(table, result)
    out["seconds"] = time.perf_counter() - t0
    return out


def _progress(table: SuiteTable, r: Result) -> None:
    def fmt(key: str) -> str:
        value = r.get(key, {}).get("score")
        return "-" if value is None else f"{value:.4f}"

    errors = split_errors(r)
    print(f"[suite] {table.name} seed {r['seed']}: jaxmlp {fmt('jaxmlp')} "
          f"({r['jaxmlp']['seconds']:.1f} s), hgb {fmt('hgb')}, mlp {fmt('mlp')}, "
          f"script {r['script']['seconds']:.1f} s" + "".join(f"; ERROR {e}" for e in errors),
          file=sys.stderr, flush=True)  # fmt: skip


# ---------------------------------------------------------------- summary


def _scores(table: Result, key: str) -> list[float]:
    return [s[key]["score"] for s in table["splits"]
            if key in s and s[key].get("score") is not None]  # fmt: skip


def _seconds(table: Result, key: str) -> list[float]:
    return [s[key]["seconds"] for s in table["splits"]
            if key in s and s[key].get("score") is not None]  # fmt: skip


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def summarise(table: Result) -> Result:
    """Medians over the splits, the best baseline and jaxmlp's gap to it."""
    jax = _scores(table, "jaxmlp")
    baselines = {k: _median(_scores(table, k)) for k in ("hgb", "mlp")}
    present = [v for v in baselines.values() if v is not None]
    best = max(present) if present else None
    median = _median(jax)
    gap = None if median is None or best is None else median - best
    jax_s, script_s = _median(_seconds(table, "jaxmlp")), _median(_seconds(table, "script"))
    return {"jaxmlp": median, "jaxmlp_min": min(jax, default=None),
            "jaxmlp_max": max(jax, default=None), **baselines, "best": best, "gap": gap,
            "within": None if gap is None else gap >= -WITHIN,
            "jaxmlp_s": jax_s, "script_s": script_s,
            "ratio": None if not jax_s or not script_s else jax_s / script_s,
            "realmlp": _median(_scores(table, "realmlp")),
            "tabm": _median(_scores(table, "tabm")),
            "errors": [e for s in table["splits"] for e in split_errors(s)],
            "n_splits": len(table["splits"])}  # fmt: skip


def _f(value: float | None, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _s(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f} s"


def table_row(table: Result, s: Result, torch: bool) -> str:
    """One Markdown row of suite.md."""
    task = "clf" if table["task"] == "classification" else "reg"
    spread = f" ({_f(s['jaxmlp_min'])}-{_f(s['jaxmlp_max'])})" if s["jaxmlp"] is not None else ""
    within = {None: "–", True: "yes", False: "no"}[s["within"]]
    gap = "–" if s["gap"] is None else f"{s['gap']:+.3f}"
    cells = [table["name"], f"{table['rows']:,}", task, str(s["n_splits"]),
             _f(s["jaxmlp"]) + spread, _f(s["hgb"]), _f(s["mlp"]), _f(s["best"]), gap, within,
             _s(s["jaxmlp_s"]), _s(s["script_s"])]  # fmt: skip
    if torch:
        cells += [_f(s["realmlp"]), _f(s["tabm"])]
    return "| " + " | ".join(cells) + " |"


def markdown(payload: Result) -> str:
    """suite.md: the table of tables, the summary, the errors."""
    tables, runs = payload["tables"], payload["runs"]
    torch = any(run["settings"]["torch"] for run in runs)
    which = ", ".join(dict.fromkeys(run["jaxmlp"] for run in runs))
    sums = [summarise(t) for t in tables]
    head = ["table", "rows", "task", "splits", "jaxmlp: median (min-max)", "HGB",
            "sklearn MLP", "best baseline", "gap", "within 0.01", "jaxmlp train wall",
            "sklearn script wall"]  # fmt: skip
    head += ["RealMLP-TD", "TabM-D"] if torch else []
    lines = [f"`jaxmlp train` (no flags{_extra(runs)}) against scikit-learn on "
             f"{len(tables)} tables ({payload['machine']}; jaxmlp {which}).",
             "", "Scores: accuracy (clf) or R² (reg) on the test rows (25%), medians over the "
             "splits; baselines' medians likewise; gap = jaxmlp - best baseline; wall: fresh "
             "process, start to exit, median.", "",
             "| " + " | ".join(head) + " |",
             "|" + "---|" * 3 + "---:|" * (len(head) - 3)]  # fmt: skip
    lines += [table_row(t, s, torch) for t, s in zip(tables, sums, strict=True)]
    lines += ["", *summary_lines(tables, sums), ""]
    lines += [_conditions({**run, "index": i}, tables) for i, run in enumerate(runs)]
    errors = [(t["name"], e) for t, s in zip(tables, sums, strict=True) for e in s["errors"]]
    if errors:
        lines += ["", f"**Errors ({len(errors)})**:", ""]
        lines += [f"- {name}: `{error}`" for name, error in errors]
    return "\n".join(lines) + "\n"


def _conditions(run: Result, tables: list[Result]) -> str:
    """One line about one run: when, how long, how busy the machine was."""
    names = set(run["tables"])
    loads = [s[k] for t in tables if t["name"] in names and t.get("run", 0) == run["index"]
             for s in t["splits"] for k in ("load_before", "load_after") if k in s]  # fmt: skip
    args = run["settings"]
    flags = f"--splits {args['splits']}" + (
        f" --big-splits {args['big_splits']} (over {args['big_rows']:,} rows)"
        if args.get("big_splits") is not None else "")  # fmt: skip
    flags += f' --jaxmlp-args "{args["jaxmlp_args"]}"' if args["jaxmlp_args"] else ""
    flags += " --no-test-file" if args.get("no_test_file") else ""
    return (f"- Run {run['date']} ({run['seconds'] / 60:.0f} min, {len(names)} tables, "
            f"{flags}; jaxmlp {run['jaxmlp']}): 1-minute load average at the splits' start "
            f"and end {_f(_median(loads), 1)} ({_f(min(loads, default=None), 1)}-"
            f"{_f(max(loads, default=None), 1)}) on {os.cpu_count()} CPUs; "
            f"OMP_WAIT_POLICY={run['omp_wait_policy']}.")  # fmt: skip


def _extra(runs: list[Result]) -> str:
    extra = [run["settings"]["jaxmlp_args"] for run in runs if run["settings"]["jaxmlp_args"]]
    return "; extra flags: " + ", ".join(f"`{e}`" for e in dict.fromkeys(extra)) if extra else ""


def summary_lines(tables: list[Result], sums: list[Result]) -> list[str]:
    """The summary under the table."""
    scored = [s for s in sums if s["gap"] is not None]
    within = [t["name"] for t, s in zip(tables, sums, strict=True) if s["within"]]
    below = [t["name"] for t, s in zip(tables, sums, strict=True)
             if s["gap"] is not None and s["gap"] < -BELOW]  # fmt: skip
    ratios = [s["ratio"] for s in sums if s["ratio"] is not None]
    big = [f"{t['name']} ({t['rows']:,} rows, {t['splits'][0]['n_train']:,} training rows)"
           for t in tables if t["rows"] >= BIG_ROWS]  # fmt: skip
    return [f"- Within {WITHIN} of the best baseline or above: **{len(within)} of "
            f"{len(scored)}** tables ({', '.join(within) or 'none'}).",
            f"- More than {BELOW} below the best baseline: **{len(below)}** "
            f"({', '.join(below) or 'none'}).",
            f"- Wall time, jaxmlp train / plain scikit-learn script (HGB), median of the "
            f"per-table ratios: **{_f(_median(ratios), 2)}x** (range "
            f"{_f(min(ratios, default=None), 2)}x-{_f(max(ratios, default=None), 2)}x).",
            f"- Tables with >= {BIG_ROWS:,} rows (the >=100k-row criterion): "
            f"{', '.join(big) or 'none'}."]  # fmt: skip


# ---------------------------------------------------------------- main


def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], capture_output=True, text=True, cwd=ROOT,
                              timeout=30).stdout.strip()  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return ""


def describe_jaxmlp(src: str | None, label: str | None) -> str:
    """Which jaxmlp ran: ``label``, or the commit and whether src/ had uncommitted edits."""
    if label:
        return label + (f" (from {src})" if src else "")
    if src is not None:
        return f"from {src}"
    commit = _git("rev-parse", "--short", "HEAD") or "unknown commit"
    dirty = _git("status", "--porcelain", "--", "src")
    return f"{commit}" + (" + uncommitted edits in src/" if dirty else "")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line (see the module's docstring)."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--tables", help="comma-separated table names (default: all)")
    p.add_argument("--splits", type=int, default=3, help="seeds 0..N-1 (default 3)")
    p.add_argument("--big-splits", type=int, help="splits for tables over --big-rows rows")
    p.add_argument("--big-rows", type=int, default=20_000, help="see --big-splits")
    p.add_argument("--torch", action="store_true", help="RealMLP-TD and TabM-D (pytabkit)")
    p.add_argument("--torch-max-rows", type=int, default=5_000,
                   help="--torch: tables with at most this many training rows")  # fmt: skip
    p.add_argument("--jaxmlp-args", default="", help="extra flags for jaxmlp train")
    p.add_argument("--no-test-file", action="store_true",
                   help="train on train.csv alone (no --test-file), scored by "
                        "jaxmlp predict on test.csv (an untouched test file)")  # fmt: skip
    p.add_argument("--jaxmlp-src", help="run jaxmlp from this source folder (PYTHONPATH)")
    p.add_argument("--jaxmlp-label", help="name the jaxmlp that ran (e.g. the exported commit)")
    p.add_argument("--timeout", type=float, default=1800.0, help="seconds per process")
    p.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "suite")
    p.add_argument(
        "--update", action="store_true", help="keep the other tables of an existing OUT/suite.json"
    )
    p.add_argument("--markdown-only", action="store_true",
                   help="only rewrite OUT/suite.md from OUT/suite.json")  # fmt: skip
    return p.parse_args(argv)


def chosen_tables(spec: str | None) -> list[SuiteTable]:
    """The tables named in ``--tables`` (all by default)."""
    if not spec:
        return suite_tables()
    return [table_named(name.strip()) for name in spec.split(",") if name.strip()]


def _machine() -> str:
    import platform

    import sklearn

    return f"{platform.machine()}, {os.cpu_count()} CPUs, scikit-learn {sklearn.__version__}"


def write(payload: Result, out: Path) -> None:
    """OUT/suite.json and OUT/suite.md."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "suite.json").write_text(json.dumps(payload, indent=2) + "\n")
    (out / "suite.md").write_text(markdown(payload))


def _previous(out: Path) -> tuple[dict[str, Result], list[Result]]:
    """The tables and runs of an existing OUT/suite.json (``--update``)."""
    if not (out / "suite.json").exists():
        return {}, []
    old = json.loads((out / "suite.json").read_text())
    return {t["name"]: t for t in old["tables"]}, old.get("runs", [])


def main(argv: list[str] | None = None) -> int:
    """Run the suite; 1 when jaxmlp failed anywhere (train, predict or the score check)."""
    args = parse_args(argv)
    if args.markdown_only:
        (args.out / "suite.md").write_text(
            markdown(json.loads((args.out / "suite.json").read_text()))
        )
        return 0
    order = [t.name for t in suite_tables()]
    tables, runs = _previous(args.out) if args.update else ({}, [])
    settings = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}
    which = describe_jaxmlp(args.jaxmlp_src, args.jaxmlp_label)
    run: Result = {"date": time.strftime("%Y-%m-%d %H:%M"), "seconds": 0.0, "jaxmlp": which,
                   "settings": settings, "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
                   "tables": []}  # fmt: skip
    payload: Result = {"machine": _machine(), "runs": [*runs, run], "tables": []}
    t0 = time.perf_counter()
    for table in chosen_tables(args.tables):
        big = args.big_splits is not None and len(table.frame()) > args.big_rows
        tables[table.name] = run_table(table, args.big_splits if big else args.splits, args)
        tables[table.name]["run"] = len(runs)
        run["tables"].append(table.name)
        run["seconds"] = time.perf_counter() - t0
        payload["tables"] = sorted(tables.values(), key=lambda t: _rank(order, t["name"]))
        write(payload, args.out)
        print(f"[suite] {table.name} done ({tables[table.name]['seconds']:.0f} s; "
              f"{run['seconds']:.0f} s in all)", file=sys.stderr, flush=True)  # fmt: skip
    print(markdown(payload))
    errors = [e for t in payload["tables"] for e in summarise(t)["errors"]]
    if errors:
        print(f"[suite] {len(errors)} jaxmlp error(s); see {args.out}/suite.md", file=sys.stderr)
    return 1 if errors else 0


def _rank(order: list[str], name: str) -> int:
    return order.index(name) if name in order else len(order)


if __name__ == "__main__":
    sys.exit(main())
