"""``jaxmlp train``, ``jaxmlp predict``, ``jaxmlp evaluate``: the CLI on a user's table.

Registered on :data:`jaxmlp.cli.app`. Every bad input ends with a one-paragraph message
and exit code 2 (1 for a diverged training), before anything is written.
"""

from __future__ import annotations

import json
import time
import tomllib
import warnings
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

__all__ = ["evaluate", "predict", "register", "train"]

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Add ``train``, ``predict`` and ``evaluate`` to the ``jaxmlp`` app."""
    for command in (train, predict, evaluate):
        app.command()(command)


def _check_hidden(value: str) -> tuple[int, ...]:
    from jaxmlp.cli import _parse_hidden  # imported late: jaxmlp.cli imports this module

    return _parse_hidden(value)


# estimator flags: CLI name -> (MLPClassifier parameter, converter); also the TOML keys
_ESTIMATOR_OPTIONS = {
    "hidden": ("hidden_layer_sizes", None),
    "activation": ("activation", str),
    "solver": ("solver", str),
    "alpha": ("alpha", float),
    "lr": ("learning_rate_init", float),
    "learning_rate": ("learning_rate", str),
    "max_iter": ("max_iter", int),
    "batch_size": ("batch_size", None),
    "momentum": ("momentum", float),
    "early_stopping": ("early_stopping", bool),
    "n_iter_no_change": ("n_iter_no_change", int),
    "tol": ("tol", float),
    "dropout": ("dropout", float),
    "class_weight": ("class_weight", None),
    "random_state": ("random_state", int),
    "dtype": ("dtype", None),
}


def _fail(message: str, code: int = 2):
    err.print(f"Error: {message}")
    raise typer.Exit(code)


def _columns(value: str | None) -> list[str] | None:
    if value is None:
        return None
    cols = [c.strip() for c in value.split(",") if c.strip()]
    if not cols:
        raise typer.BadParameter(f"{value!r} names no column; e.g. --features age,income.")
    return cols


def _batch_size(value: str | None):
    if value is None or value == "auto":
        return value
    if str(value).isdigit() and int(value) > 0:
        return int(value)
    raise typer.BadParameter(f"must be 'auto' or a positive integer, got {value!r}.")


def _read_config(path: Path) -> dict[str, Any]:
    try:
        config = tomllib.loads(path.read_text())
    except FileNotFoundError:
        _fail(f"Config file '{path}' does not exist.")
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        _fail(f"Config file '{path}' is not valid TOML: {e}.")
    section = config.get("model", config)
    unknown = sorted(set(section) - set(_ESTIMATOR_OPTIONS))
    if unknown:
        _fail(f"Config file '{path}' has unknown key(s) {', '.join(unknown)}. Known keys: "
              f"{', '.join(sorted(_ESTIMATOR_OPTIONS))}.")  # fmt: skip
    return section


def _estimator_params(ctx: typer.Context, given: dict[str, Any], config: dict) -> dict:
    """Defaults < config file < flags given on the command line."""
    params: dict[str, Any] = {}
    for name, (param, convert) in _ESTIMATOR_OPTIONS.items():
        source = ctx.get_parameter_source(name)
        if source is not None and source.name == "COMMANDLINE":
            value = given[name]
        elif name in config:
            value = config[name]
            if name == "hidden":
                value = _check_hidden(",".join(map(str, value)) if isinstance(value, list)
                                      else str(value))  # fmt: skip
            elif name == "batch_size":
                value = _batch_size(str(value))
        else:
            value = given[name]
        if value is None and name == "class_weight":
            continue
        params[param] = convert(value) if convert and value is not None else value
    params["hidden_layer_sizes"] = tuple(params["hidden_layer_sizes"])
    return params


def _check_out(path: Path, force: bool) -> None:
    from jaxmlp.files import check_can_write_dir

    if path.exists() and not force:
        _fail(f"'{path}' already exists; choose another --out, or pass --force to replace "
              "the model in it.")  # fmt: skip
    if path.exists() and not path.is_dir():
        _fail(f"'{path}' is a file; --out must be a folder.")
    try:
        check_can_write_dir(path.absolute().parent)
    except ValueError as e:
        _fail(str(e))


def _load_table(path: Path):
    from jaxmlp.tables import TableError, read_table

    try:
        return read_table(path)
    except TableError as e:
        _fail(str(e))


def _load_model(path: Path):
    from jaxmlp.model_files import ModelFileError, load
    from jaxmlp.table_model import TableModel

    try:
        model = load(path)
    except ModelFileError as e:
        _fail(str(e))
    if not isinstance(model, TableModel):
        _fail(f"'{path}' holds a bare MLPClassifier, not a table model from `jaxmlp train`; "
              "load it in Python with jaxmlp.load().")  # fmt: skip
    return model


def train(
    ctx: typer.Context,
    data: Annotated[Path, typer.Argument(help="CSV (any delimiter) or Parquet table.")],
    target: Annotated[str, typer.Option(help="Column to predict.")],
    out_dir: Annotated[Path, typer.Option("--out", help="Model folder to create.")],
    features: Annotated[
        str | None, typer.Option(help="Feature columns, comma-separated (default: all others).")
    ] = None,
    categorical: Annotated[
        str | None, typer.Option(help="Columns to treat as categorical, comma-separated.")
    ] = None,
    numeric: Annotated[
        str | None, typer.Option(help="Columns to treat as numeric, comma-separated.")
    ] = None,
    test_size: Annotated[float, typer.Option(help="Held-out validation fraction.")] = 0.25,
    test_file: Annotated[
        Path | None, typer.Option(help="Validation rows from this file instead.")
    ] = None,
    drop_missing_target: Annotated[
        bool, typer.Option(help="Drop rows whose target is missing.")
    ] = False,
    config: Annotated[
        Path | None, typer.Option(help="TOML file with estimator options ([model] table).")
    ] = None,
    hidden: Annotated[str, typer.Option(callback=_check_hidden, help="Hidden widths: 64,32.")] = (
        "100"
    ),
    activation: Annotated[
        str, typer.Option(help="relu, tanh, logistic, swish, gelu, identity.")
    ] = ("relu"),
    solver: Annotated[str, typer.Option(help="adam, sgd, lbfgs.")] = "adam",
    alpha: Annotated[float, typer.Option(help="L2 penalty.")] = 1e-4,
    lr: Annotated[float, typer.Option(help="Initial learning rate.")] = 1e-3,
    learning_rate: Annotated[
        str, typer.Option(help="Schedule (sgd): constant, invscaling, adaptive.")
    ] = "constant",
    max_iter: Annotated[int, typer.Option(help="Epochs (iterations for lbfgs).")] = 200,
    batch_size: Annotated[str, typer.Option(callback=_batch_size, help="'auto' or a size.")] = (
        "auto"
    ),
    momentum: Annotated[float, typer.Option(help="Momentum (sgd).")] = 0.9,
    early_stopping: Annotated[
        bool, typer.Option(help="Stop on a validation split of the training rows.")
    ] = False,
    n_iter_no_change: Annotated[int, typer.Option(help="Patience in epochs.")] = 10,
    tol: Annotated[float, typer.Option(help="Improvement tolerance.")] = 1e-4,
    dropout: Annotated[float, typer.Option(help="Dropout rate of hidden units.")] = 0.0,
    class_weight: Annotated[str | None, typer.Option(help="'balanced' or omit.")] = None,
    random_state: Annotated[int, typer.Option(help="Seed.")] = 0,
    dtype: Annotated[
        str | None,
        typer.Option(help="float32 or float64 (default: float64, as scikit-learn for tables)."),
    ] = None,
    baseline: Annotated[
        bool, typer.Option("--baseline/--no-baseline", help="Fit scikit-learn's MLP too.")
    ] = True,
    force: Annotated[bool, typer.Option(help="Replace an existing model folder.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON summary.")] = False,
) -> None:
    """Train a classifier on a table; write the model folder with report.html."""

    from jaxmlp.tables import TableError, prepare_table

    t0 = time.perf_counter()
    say = (lambda *a: None) if quiet or as_json else out.print
    if not 0 < test_size < 1:
        _fail(f"--test-size must be a fraction in (0, 1), got {test_size}; e.g. 0.25.")
    cfg = _read_config(config) if config is not None else {}
    given = dict(hidden=hidden, activation=activation, solver=solver, alpha=alpha, lr=lr,
                 learning_rate=learning_rate, max_iter=max_iter, batch_size=batch_size,
                 momentum=momentum, early_stopping=early_stopping,
                 n_iter_no_change=n_iter_no_change, tol=tol, dropout=dropout,
                 class_weight=class_weight, random_state=random_state, dtype=dtype)  # fmt: skip
    params = _estimator_params(ctx, given, cfg)
    from sklearn.utils._param_validation import InvalidParameterError

    from jaxmlp.estimator import MLPClassifier

    estimator = MLPClassifier(**params)
    try:
        estimator._validate_params()
    except InvalidParameterError as e:
        _fail(f"{e} (set by a flag or --config).")
    _check_out(out_dir, force)

    df = _load_table(data)
    test_df = _load_table(test_file) if test_file is not None else None
    try:
        table = prepare_table(df, target, features=_columns(features),
                              categorical=tuple(_columns(categorical) or ()),
                              numeric=tuple(_columns(numeric) or ()), test_size=test_size,
                              test_df=test_df, seed=random_state,
                              drop_missing_target=drop_missing_target)  # fmt: skip
    except TableError as e:
        _fail(str(e))
    for note in table.warnings:
        err.print(f"Warning: {note}")
    split = table.split
    say(f"jaxmlp train: {data} -> {len(split.X_train)} train / {len(split.X_test)} validation "
        f"rows, {len(table.schema.features)} features ({split.X_train.shape[1]} after "
        f"encoding), {len(table.classes)} classes")  # fmt: skip

    from jaxmlp.cache import enable_compilation_cache
    from jaxmlp.engine import DivergenceError
    from jaxmlp.table_model import TableModel

    enable_compilation_cache()
    estimator._monitor = [(split.X_train, split.y_train), (split.X_test, split.y_test)]
    t_fit = time.perf_counter()
    from jaxmlp.cli import _count_progress

    with _count_progress(int(params["max_iter"]), not (quiet or as_json), "epochs") as bar:
        if bar is not None:
            estimator._progress = lambda done, result: bar(min(done, params["max_iter"]), None)
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                estimator.fit(split.X_train, split.y_train)
        except DivergenceError as e:
            _fail(f"{e} (--lr is {params['learning_rate_init']}.)", code=1)
    fit_time = time.perf_counter() - t_fit
    for w in caught:
        if "converge" in str(w.message).lower() or "Maximum iterations" in str(w.message):
            err.print(f"Note: {str(w.message).splitlines()[0]}")
    curves = getattr(estimator, "monitor_curves_", None)
    for hook in ("_monitor", "_progress", "monitor_curves_"):  # not part of the saved model
        estimator.__dict__.pop(hook, None)
    model = TableModel(estimator, table.preprocessor, table.schema, target, table.classes)

    from jaxmlp.table_report import data_summary, metrics

    proba = model.estimator.predict_proba(split.X_test)
    result = metrics(split.y_test, proba, table.classes)
    result["fit_time_s"] = fit_time
    summary: dict[str, Any] = {"jaxmlp": result, "data": data_summary(df, target, table.schema),
                               "warnings": table.warnings}  # fmt: skip
    if baseline:
        summary["sklearn"] = _baseline(params, split, table.classes)
    model.info = {"validation": {k: result[k] for k in ("accuracy", "log_loss", "roc_auc")},
                  "rows": {"train": len(split.X_train), "validation": len(split.X_test)},
                  "source": str(data)}  # fmt: skip
    _attach_report(model, summary, table.frames[1], split.y_test, proba, result, curves,
                   f"jaxmlp train: {data.name}", params)  # fmt: skip

    from jaxmlp.model_files import ModelFileError, save

    try:
        save(model, out_dir, overwrite=force)
    except ModelFileError as e:
        _fail(str(e))
    sk = summary.get("sklearn")
    say(
        f"validation accuracy {result['accuracy']:.4f}, log loss {result['log_loss']:.4f}"
        + (f" (scikit-learn MLP: {sk['accuracy']:.4f}, {sk['log_loss']:.4f})" if sk else "")
    )
    say(f"wrote {out_dir}/ (model.json, arrays.safetensors, report.html) in "
        f"{time.perf_counter() - t0:.1f} s; open {out_dir / 'report.html'}")  # fmt: skip
    if as_json:
        out.print_json(json.dumps({"model": str(out_dir), "report": str(out_dir / "report.html"),
                                   "validation": model.info["validation"],
                                   "sklearn": None if not sk else {
                                       k: sk[k] for k in ("accuracy", "log_loss", "roc_auc")},
                                   "fit_time_s": fit_time}))  # fmt: skip


def _baseline(params: dict, split, classes) -> dict:
    import numpy as np
    from sklearn.neural_network import MLPClassifier as SkMLP

    from jaxmlp.table_report import metrics

    kw = {k: v for k, v in params.items() if k not in ("dropout", "class_weight", "dtype")}
    dtype = params.get("dtype") or np.float64  # scikit-learn trains in its input's precision
    if kw.get("activation") in ("swish", "gelu"):
        kw["activation"] = "relu"  # scikit-learn has neither
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sk = SkMLP(**kw).fit(np.asarray(split.X_train, dtype), split.y_train)
    result = metrics(split.y_test, sk.predict_proba(np.asarray(split.X_test, dtype)), classes)
    result["fit_time_s"] = time.perf_counter() - t
    return result


def _attach_report(model, summary, frame, y, proba, result, curves, title, settings) -> None:
    from jaxmlp.artifacts import versions
    from jaxmlp.table_report import render_images, render_table_report

    summary["settings"] = {k: str(v) for k, v in settings.items()}
    summary["versions"] = versions()
    summary["subtitle"] = (f"{len(model.classes)} classes, target '{model.target}'; "
                           f"MLP {model.estimator.hidden_layer_sizes} "
                           f"({model.estimator.activation}, {model.estimator.solver}, "
                           f"{model.estimator.coefs_[0].dtype})")  # fmt: skip
    images = render_images(model, frame, y, proba, result, curves)
    model._extra_files = {"report.html": render_table_report(title, summary, images)}


def _write_table(df, path: Path | None, force: bool) -> None:
    import io

    from jaxmlp.files import atomic_write

    if path is None:
        df.to_csv(out.file, index=False)
        return
    if path.exists() and not force:
        _fail(f"'{path}' already exists; choose another --out or pass --force.")
    if path.suffix.lower() in (".parquet", ".pq"):
        buf = io.BytesIO()
        df.to_parquet(buf, index=False)
        atomic_write(path, buf.getvalue())
    else:
        atomic_write(path, df.to_csv(index=False))


def predict(
    model_dir: Annotated[Path, typer.Argument(help="Model folder from `jaxmlp train`.")],
    data: Annotated[Path, typer.Argument(help="CSV or Parquet rows to predict.")],
    proba: Annotated[bool, typer.Option(help="Add one probability column per class.")] = False,
    out_file: Annotated[
        Path | None, typer.Option("--out", help="CSV or .parquet file (default: CSV to stdout).")
    ] = None,
    force: Annotated[bool, typer.Option(help="Replace an existing --out file.")] = False,
) -> None:
    """Predict the target for new rows (extra columns ignored, any column order)."""
    import numpy as np
    import pandas as pd

    from jaxmlp.cache import enable_compilation_cache
    from jaxmlp.tables import TableError

    enable_compilation_cache()
    model = _load_model(model_dir)
    df = _load_table(data)
    df = df.set_axis([str(c) for c in df.columns], axis=1)
    try:
        for note in model.check_columns(df):
            err.print(f"Note: {note}")
        p = model.predict_proba(df)
    except TableError as e:
        _fail(str(e))
    result = pd.DataFrame({f"predicted_{model.target}": model.classes[np.argmax(p, axis=1)]})
    if proba:
        for i, c in enumerate(model.classes):
            result[f"proba_{c}"] = p[:, i]
    _write_table(result, out_file, force)
    if out_file is not None:
        err.print(f"wrote {len(result)} predictions to {out_file}")


def evaluate(
    model_dir: Annotated[Path, typer.Argument(help="Model folder from `jaxmlp train`.")],
    data: Annotated[Path, typer.Argument(help="CSV or Parquet rows with the target column.")],
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Folder for report.html (default: none).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the metrics as JSON.")] = False,
) -> None:
    """Metrics (and optionally a report) of a model on labelled rows."""
    from jaxmlp.files import ensure_writable_dir
    from jaxmlp.tables import TableError

    model = _load_model(model_dir)
    df = _load_table(data)
    df = df.set_axis([str(c) for c in df.columns], axis=1)
    if model.target not in df.columns:
        _fail(f"'{data}' has no target column '{model.target}' to evaluate against; use "
              "`jaxmlp predict` for unlabelled rows.")  # fmt: skip
    df = df[df[model.target].notna()]
    try:
        for note in model.check_columns(df):
            err.print(f"Note: {note}")
        y = model.encode(df[model.target].to_numpy())
        p = model.predict_proba(df)
    except TableError as e:
        _fail(str(e))
    from jaxmlp.table_report import data_summary, metrics

    result = metrics(y, p, model.classes)
    if out_dir is not None:
        try:
            ensure_writable_dir(out_dir)
        except ValueError as e:
            _fail(str(e))
        from jaxmlp.files import atomic_write

        summary = {"jaxmlp": result, "data": data_summary(df, model.target, model.schema)}
        _attach_report(model, summary, df, y, p, result, None, f"jaxmlp evaluate: {data.name}",
                       {"model": str(model_dir), "data": str(data)})  # fmt: skip
        atomic_write(out_dir / "report.html", model._extra_files["report.html"])
    if as_json:
        keys = ("accuracy", "log_loss", "roc_auc", "per_class", "confusion_matrix")
        out.print_json(json.dumps({k: result[k] for k in keys}))
        return
    auc = "" if result["roc_auc"] is None else f", ROC AUC {result['roc_auc']:.4f}"
    out.print(f"{len(df)} rows: accuracy {result['accuracy']:.4f}, log loss "
              f"{result['log_loss']:.4f}{auc}")  # fmt: skip
    for r in result["per_class"]:
        out.print(f"  {r['class']}: precision {r['precision']:.3f}, recall {r['recall']:.3f}, "
                  f"F1 {r['f1']:.3f}, support {r['support']}")  # fmt: skip
    if out_dir is not None:
        out.print(f"wrote {out_dir / 'report.html'}")
