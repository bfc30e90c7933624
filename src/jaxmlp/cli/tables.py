"""``jaxmlp train``, ``jaxmlp predict``, ``jaxmlp evaluate``: the CLI on a user's table.

The commands parse, call :mod:`jaxmlp.workflows.table` and :mod:`jaxmlp.reports.table`,
and print. Every bad input ends with a one-paragraph message and exit code 2 (1 for a
diverged training), before anything is written.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Annotated, Any, cast

import typer

from jaxmlp.cli import options as opt
from jaxmlp.cli.common import err, fail, out, printer
from jaxmlp.cli.hosts import check_devices, join_processes, lost_peer
from jaxmlp.cli.progress import progress_bar
from jaxmlp.cli.settings import check_params, estimator_params, read_config
from jaxmlp.cli.stream import convert_csv
from jaxmlp.cli.table_output import prepared, print_evaluation, print_trained

__all__ = ["evaluate", "predict", "train"]


def _check_out(path: Path, force: bool) -> None:
    from jaxmlp.io.files import check_can_write_dir

    if path.exists() and not force:
        fail(f"'{path}' already exists; choose another --out, or pass --force to replace "
             "the model in it.")  # fmt: skip
    if path.exists() and not path.is_dir():
        fail(f"'{path}' is a file; --out must be a folder.")
    try:
        check_can_write_dir(path.absolute().parent)
    except ValueError as e:
        fail(str(e))


def train(
    ctx: typer.Context,
    data: Annotated[Path, typer.Argument(help="CSV (any delimiter) or Parquet table.")],
    target: Annotated[str, typer.Option(help="Column to predict.")],
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Model folder to create (default: "
                                  "<table name>-model, here).")
    ] = None,
    features: Annotated[
        str | None, typer.Option(callback=opt.columns,
                                 help="Feature columns, comma-separated (default: all others).")
    ] = None,
    categorical: Annotated[
        str | None, typer.Option(callback=opt.columns,
                                 help="Columns to treat as categorical, comma-separated.")
    ] = None,
    numeric: Annotated[
        str | None, typer.Option(callback=opt.columns,
                                 help="Columns to treat as numeric, comma-separated.")
    ] = None,
    task: Annotated[
        str, typer.Option(help="auto (numbers with many distinct values: regression), "
                          "classification or regression.")
    ] = "auto",
    datetime: Annotated[
        str | None, typer.Option(callback=opt.columns, help="Columns to read as dates, "
                                 "comma-separated (ISO dates are found without it).")
    ] = None,
    max_onehot: Annotated[
        int, typer.Option(min=1, help="Categorical columns with more values than this are "
                          "target-encoded (scikit-learn's TargetEncoder) instead of one-hot.")
    ] = 50,
    keep_column: Annotated[
        list[str] | None, typer.Option(help="Use this column though it looks like an id "
                                       "(left out by default); repeat for several.")
    ] = None,
    test_size: Annotated[
        float | None, typer.Option(callback=opt.number(opt.fraction, "--test-size", "0.25"),
                                   help="Hold out this share of the rows to score on "
                                        "instead of cross-fitting. [default: 0.25 where "
                                        "not cross-fitted]")
    ] = None,
    cv: Annotated[
        str, typer.Option(metavar="K|auto|none", callback=opt.cv_folds,
                          help="Cross-fit in K folds (2-20): member i trains on all folds but i "
                               "and stops on it; scored out of fold. auto: the ensemble's "
                               "size up to 10,000 rows; none: a holdout.")
    ] = "auto",
    test_file: Annotated[
        Path | None, typer.Option(help="Validation rows from this file instead.")
    ] = None,
    drop_missing_target: Annotated[
        bool, typer.Option(help="Drop rows whose target is missing.")
    ] = False,
    config: Annotated[
        Path | None, typer.Option(help="TOML file with estimator options (its \\[model] table).")
    ] = None,
    hidden: Annotated[
        str, typer.Option(callback=opt.hidden, help="Hidden widths: 64,32.")
    ] = "256,256",
    activation: Annotated[str, typer.Option(help=opt.ACTIVATION_HELP)] = "relu",
    solver: Annotated[str, typer.Option(help="adam, sgd, lbfgs.")] = "adam",
    alpha: Annotated[float, typer.Option(help="L2 penalty.")] = 1e-4,
    lr: Annotated[float, typer.Option(help="Initial learning rate.")] = 1e-3,
    learning_rate: Annotated[
        str, typer.Option(help="Schedule (sgd): constant, invscaling, adaptive.")
    ] = "constant",
    max_iter: Annotated[
        int | None, typer.Option(min=1, help="Epochs at most (iterations for lbfgs; default: "
                                 "1000 with early stopping, 200 without).")
    ] = None,
    batch_size: Annotated[
        str, typer.Option(callback=opt.batch_size, help="'auto' or a size.")
    ] = "auto",
    momentum: Annotated[float, typer.Option(help="Momentum (sgd).")] = 0.9,
    early_stopping: Annotated[
        bool, typer.Option(help="Stop each member when the loss on its held-out rows (its "
                           "fold, or 10% of the training rows) stops falling and keep "
                           "the best epoch's weights "
                           "(--no-early-stopping: train --max-iter epochs or until the "
                           "training loss stalls).")
    ] = True,
    n_iter_no_change: Annotated[
        int | None, typer.Option(min=1, help="Patience in epochs (default: 200 optimizer "
                                 "steps' worth, at least 10 epochs).")
    ] = None,
    tol: Annotated[float, typer.Option(help="Improvement tolerance.")] = 1e-4,
    dropout: Annotated[float, typer.Option(help="Dropout rate of hidden units.")] = 0.0,
    ensemble: Annotated[
        int | None, typer.Option(min=1, help="Members trained side by side as one program, "
                                 "each stopped on its own held-out rows; predictions "
                                 "averaged (default 4; 1: one network).")
    ] = None,
    time_budget: Annotated[
        float | None, typer.Option(
            metavar="SECONDS",
            callback=opt.number(opt.positive, "--time-budget", "--time-budget 60"),
            help="Most seconds of training, compiling included (reading, baselines and "
                 "writing come on top): stops when one more epoch would not fit.")
    ] = None,
    class_weight: Annotated[str | None, typer.Option(help="'balanced' or omit.")] = None,
    random_state: Annotated[int, typer.Option(help="Seed.")] = 0,
    dtype: Annotated[
        str | None,
        typer.Option(help="float32 or float64 (default: float32, as PyTorch's tabular MLPs; "
                     "in memory, with --stream and on several processes alike)."),
    ] = None,
    baseline: Annotated[
        bool, typer.Option("--baseline/--no-baseline", help="Fit scikit-learn's MLP too.")
    ] = True,
    force: Annotated[bool, typer.Option(help="Replace an existing model folder.")] = False,
    stream: Annotated[
        bool, typer.Option(help="Read the table one row group at a time (larger than memory; "
                           "a CSV is converted to Parquet beside it once).")
    ] = False,
    devices: Annotated[
        int | None, typer.Option(min=1, help="Split each batch over this many devices "
                                 "(default 1; with several processes: all of theirs).")
    ] = None,
    coordinator_address: Annotated[
        str | None, typer.Option(help="HOST:PORT of process 0, to train on several processes "
                                 "('auto': SLURM/MPI/Kubernetes); env JAX_COORDINATOR_ADDRESS.")
    ] = None,
    num_processes: Annotated[
        int | None, typer.Option(help="Processes in all (env JAX_NUM_PROCESSES).")
    ] = None,
    process_id: Annotated[
        int | None, typer.Option(help="This process's number, 0 .. N-1 (env JAX_PROCESS_ID).")
    ] = None,
    connect_timeout: Annotated[
        float, typer.Option(min=1, help="Seconds to wait for all processes to join, and for "
                            "a silent one before the others stop.")
    ] = 60.0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only warnings.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON summary.")] = False,
) -> None:  # fmt: skip
    """Train a classifier (or, for a numeric target, a regressor) on a table; write the model
    folder with report.html."""
    t0 = time.perf_counter()
    if task not in ("auto", "classification", "regression"):
        fail(f"--task must be auto, classification or regression; got {task!r}.")
    if task == "regression" and (stream or coordinator_address):
        fail("--stream and several processes train classifiers only (for now); drop "
             "--stream / --coordinator-address to train the regressor in memory.")  # fmt: skip
    out_dir = out_dir if out_dir is not None else Path(f"{data.stem}-model")
    if stream and (devices or coordinator_address or test_file is not None):
        fail(
            "--stream trains on one device of one process with a validation sample of the "
            "table; drop --devices / --coordinator-address / --test-file."
        )
    rank = join_processes(coordinator_address, num_processes, process_id, connect_timeout,
                          data)  # fmt: skip
    devices = check_devices(devices, rank is not None)
    quiet = quiet or bool(rank)  # only process 0 prints, writes and compares
    say = printer(quiet or as_json)
    given = dict(hidden=hidden, activation=activation, solver=solver, alpha=alpha, lr=lr,
                 learning_rate=learning_rate, max_iter=max_iter, batch_size=batch_size,
                 momentum=momentum, early_stopping=early_stopping,
                 n_iter_no_change=n_iter_no_change, tol=tol, dropout=dropout,
                 class_weight=class_weight, random_state=random_state, dtype=dtype)  # fmt: skip
    params = estimator_params(ctx, given, read_config(config) if config is not None else {})
    asked = ctx.get_parameter_source("early_stopping")
    if (stream or rank is not None) and (asked is None or asked.name != "COMMANDLINE"):
        params["early_stopping"] = False  # these stop on the training loss
    if stream or rank is not None:  # scikit-learn's defaults, on the training loss
        params["n_iter_no_change"] = params["n_iter_no_change"] or 10
        params["max_iter"] = params["max_iter"] or 200
    check_params({**params, "n_iter_no_change": params["n_iter_no_change"] or 10,
                  "max_iter": params["max_iter"] or 200})  # fmt: skip
    opt.one_network(ensemble, cv, "--stream" if stream else (
        "--coordinator-address (several processes)" if rank is not None else None))  # fmt: skip
    if time_budget is not None:
        _check_time_budget(params, stream or rank is not None)
    if not rank:
        _check_out(out_dir, force)
    from jaxmlp.workflows.table import TableTrainConfig

    # the column options hold lists, parsed by their callbacks
    columns = cast(dict[str, Any], {"features": features, "categorical": categorical,
                                    "numeric": numeric, "datetime": datetime})  # fmt: skip
    run = TableTrainConfig(data, target, params, columns["features"],
                           tuple(columns["categorical"] or ()), tuple(columns["numeric"] or ()),
                           test_size, test_file, drop_missing_target,
                           baseline and rank is None and not stream, devices, stream,
                           shared=rank is not None,
                           keep=tuple(keep_column or ()), task=task,
                           datetime=tuple(columns["datetime"] or ()),
                           max_onehot=max_onehot)  # fmt: skip
    if ensemble is not None:
        run = dataclasses.replace(run, ensemble=ensemble)
    if time_budget is not None:
        run = dataclasses.replace(run, time_budget=time_budget)
    folds = None if cv == "none" or stream or rank is not None else (
        "auto" if cv == "auto" else int(cv))  # fmt: skip
    if isinstance(folds, int):
        opt.cv_alone(folds, test_size, time_budget, ensemble)
    run = dataclasses.replace(run, cv=folds)
    if stream:
        convert_csv(data, not (quiet or as_json))
    try:
        result = _train(run, params, not (quiet or as_json), say, show_notes=not rank)
    except RuntimeError as e:  # jax.errors.JaxRuntimeError: a collective failed
        if rank is None or type(e).__name__ != "JaxRuntimeError":
            raise
        fail(lost_peer(rank, e), code=1)
    if rank:
        err.print(f"process {rank}: trained on its {result.model.info['rows']['this process']} "
                  f"of the {result.model.info['rows']['train']} training rows; process 0 "
                  f"writes {out_dir}/")  # fmt: skip
        return
    from jaxmlp.io.model_files import ModelFileError
    from jaxmlp.reports.table import write_table_model

    try:
        write_table_model(result, out_dir, overwrite=force, settings=params)
    except ModelFileError as e:
        fail(str(e))
    print_trained(result, out_dir, time.perf_counter() - t0, say, as_json)


def _check_time_budget(params: dict, elsewhere: bool) -> None:
    """``--time-budget`` trains in rungs that continue each other: in memory, with a
    solver that keeps its state (not L-BFGS)."""
    if elsewhere:
        fail("--time-budget trains the table in memory on this process; drop --stream / "
             "--coordinator-address, or drop --time-budget and cap the epochs with "
             "--max-iter.")  # fmt: skip
    if params.get("solver") == "lbfgs":
        fail("--time-budget trains in rungs that continue each other, which --solver lbfgs "
             "cannot (L-BFGS keeps no state between fits); use --solver adam or sgd, or "
             "cap L-BFGS with --max-iter.")  # fmt: skip


def _train(run: Any, params: dict, show_progress: bool, say: Any,
           show_notes: bool = True) -> Any:  # fmt: skip
    """:func:`~jaxmlp.workflows.table.train_table` with a progress bar and the CLI's exits."""
    from jaxmlp.core.compiled import enable_compilation_cache
    from jaxmlp.core.program import DivergenceError
    from jaxmlp.data.tables import TableError
    from jaxmlp.workflows.shares import train_table_shared
    from jaxmlp.workflows.stream import train_table_stream
    from jaxmlp.workflows.table import train_table

    enable_compilation_cache()
    fit = train_table_stream if run.stream else train_table
    if run.shared:  # several processes: each reads its own rows
        fit = train_table_shared
    epochs = int(params["max_iter"] or 1000)
    try:
        with progress_bar(epochs, "epochs", enabled=show_progress) as bar:
            progress = None if bar is None else lambda done, loss: bar(done)
            stage = {} if bar is None or fit is not train_table else {
                "on_stage": lambda text: bar(None, text + "...")}  # fmt: skip
            result = fit(run, progress, on_prepared=lambda table: prepared(run.data, table, say),
                         **stage)  # fmt: skip
    except TableError as e:
        fail(str(e))
    except DivergenceError as e:
        fail(f"{e} (--lr is {params['learning_rate_init']}.)", code=1)
    for note in result.notes if show_notes else ():
        err.print(f"Note: {note}")
    return result


def _load_model(path: Path) -> Any:
    from jaxmlp.data.tables import TableError
    from jaxmlp.io.model_files import ModelFileError
    from jaxmlp.workflows.table_use import load_table_model

    try:
        return load_table_model(path)
    except (ModelFileError, TableError) as e:
        fail(str(e))


def _write_table(df: Any, path: Path | None, force: bool) -> None:
    import io

    from jaxmlp.io.files import atomic_write

    if path is None:
        df.to_csv(out.file, index=False)
        return
    if path.exists() and not force:
        fail(f"'{path}' already exists; choose another --out or pass --force.")
    if path.suffix.lower() in (".parquet", ".pq"):
        buf = io.BytesIO()
        df.to_parquet(buf, index=False)
        atomic_write(path, buf.getvalue())
    else:
        atomic_write(path, df.to_csv(index=False))


def predict(
    model_dir: Annotated[Path, typer.Argument(help="Model folder from `jaxmlp train`.")],
    data: Annotated[Path, typer.Argument(help="CSV or Parquet rows to predict.")],
    proba: Annotated[
        bool, typer.Option(help="Add one probability column per class (classifiers).")
    ] = False,
    out_file: Annotated[
        Path | None, typer.Option("--out", help="CSV or .parquet file (default: CSV to stdout).")
    ] = None,
    force: Annotated[bool, typer.Option(help="Replace an existing --out file.")] = False,
) -> None:
    """Predict the target for new rows (extra columns ignored, any column order)."""
    from jaxmlp.core.compiled import enable_compilation_cache
    from jaxmlp.data.tables import TableError
    from jaxmlp.workflows.table_use import predict_table

    enable_compilation_cache()
    model = _load_model(model_dir)
    try:
        result, notes = predict_table(model, data, proba)
    except TableError as e:
        fail(str(e))
    for note in notes:
        err.print(f"Note: {note}")
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
    force: Annotated[bool, typer.Option(help="Replace a report.html in --out.")] = False,
) -> None:
    """Metrics (and optionally a report) of a model on labelled rows."""
    from jaxmlp.data.tables import TableError
    from jaxmlp.workflows.table_use import evaluate_table

    if out_dir is not None and (out_dir / "report.html").exists() and not force:
        fail(f"'{out_dir / 'report.html'}' already exists; choose another --out, or pass "
             "--force to replace it.")  # fmt: skip

    model = _load_model(model_dir)
    try:
        evaluation = evaluate_table(model, data)
    except TableError as e:
        fail(str(e))
    for note in evaluation["notes"]:
        err.print(f"Note: {note}")
    if out_dir is not None:
        from jaxmlp.reports.table import write_evaluation_report

        try:
            written = write_evaluation_report(
                model, evaluation, out_dir, {"model": str(model_dir), "data": str(data)}
            )
        except ValueError as e:
            fail(str(e))
    print_evaluation(evaluation, as_json)
    if out_dir is not None and not as_json:
        out.print(f"wrote {written}")
