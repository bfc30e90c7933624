"""``jaxmlp sweep``: a grid of models x seeds trained side by side
(:func:`jaxmlp.workflows.sweep.run_sweep`), results and a report written
(:mod:`jaxmlp.reports.sweep`)."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Annotated, Any, cast

import typer

from jaxmlp.cli import options as opt
from jaxmlp.cli.common import err, fail, output_folder, printer
from jaxmlp.cli.progress import progress_bar

__all__ = ["sweep"]


def _split(data: Path | None, target: str | None, dataset: str, n_samples: int, noise: float,
           data_seed: int, test_size: float, drop_missing_target: bool) -> Any:  # fmt: skip
    """The toy set, or the table given with --data, split into train and validation."""
    if data is None:
        from jaxmlp.data import make_dataset

        return make_dataset(dataset, n_samples=n_samples, noise=noise, seed=data_seed,
                            test_size=test_size)  # fmt: skip
    from jaxmlp.data.tables import TableError
    from jaxmlp.workflows.sweep import table_split

    if target is None:
        raise typer.BadParameter("--data needs --target COLUMN (the column to predict).",
                                 param_hint="'--target'")  # fmt: skip
    try:
        split, warnings = table_split(str(data), target, test_size, drop_missing_target)
    except TableError as e:
        fail(str(e))
    for note in warnings:
        err.print(f"Warning: {note}")
    return split


def _above_one(option: str, value: float, example: str) -> float:
    """A halving factor: a number > 1."""
    if not value > 1:
        raise ValueError(f"{option} must be greater than 1 (keep 1/factor of the cells per "
                         f"rung), got {value:g}; e.g. {example}.")  # fmt: skip
    return value


def _rungs_line(result: Any) -> str:
    """Halving's rungs, one line: how many cells reached which epoch."""
    return "successive halving: " + ", then ".join(
        f"{n} cells to epoch {e}" for e, n in result.rungs
    )


def _best_line(result: Any) -> str:
    mean, std = result.cell_scores()
    best = result.best_cell()
    cell = result.cells[best]
    if (result.diverged_at > 0).all():
        return "every model diverged: lower the learning rates."
    return (f"best: hidden {'-'.join(map(str, cell['hidden']))}, lr {cell['lr']:g}, alpha "
            f"{cell['alpha']:g}, momentum {cell['momentum']:g}: validation {result.score_name} "
            f"{mean[best]:.4f} ± {std[best]:.4f}")  # fmt: skip


def sweep(
    dataset: opt.Dataset = "circles",
    data: Annotated[
        Path | None,
        typer.Option(help="A CSV or Parquet table instead of a toy set (the toy set options are "
                          "then ignored)."),
    ] = None,
    target: Annotated[str | None, typer.Option(help="Target column of --data.")] = None,
    drop_missing_target: Annotated[
        bool, typer.Option(help="Drop rows of --data whose target is missing.")
    ] = False,
    n_samples: opt.NSamples = 200,
    noise: opt.Noise = 0.2,
    data_seed: opt.DataSeed = 1337,
    test_size: opt.TestSize = 0.3,
    hidden: Annotated[
        list[str],
        typer.Option(callback=opt.hidden_list,
                     help="Hidden layer widths, e.g. 32,32; repeat for several architectures."),
    ] = ["64"],  # noqa: B006 -- typer's way to give a list option a default
    activation: opt.Activation = "swish",
    optimizer: opt.Optimizer = "momentum",
    lr: Annotated[
        str, typer.Option(callback=opt.float_grid("--lr", "0.01,0.03,0.1", opt.positive),
                          help="Learning rates, comma-separated.")
    ] = "0.01,0.03,0.1",
    alpha: Annotated[
        str, typer.Option(callback=opt.float_grid("--alpha", "0,1e-4,1e-2", opt.nonnegative),
                          help="L2 penalties, comma-separated.")
    ] = "0,1e-4,1e-2",
    momentum: Annotated[
        str, typer.Option(callback=opt.float_grid("--momentum", "0.9", opt.rate),
                          help="Momenta (or Adam's beta_1), comma-separated.")
    ] = "0.9",
    seeds: Annotated[
        int, typer.Option(callback=opt.number(opt.positive, "--seeds", "--seeds 16"),
                          help="Seeds per grid cell.")
    ] = 8,
    epochs: opt.Epochs = 250,
    halving: Annotated[
        bool, typer.Option(help="Successive halving: after each rung only the best cells "
                                "(1/--factor of them) go on, from their weights; only the "
                                "last rung's cells reach --epochs.")
    ] = False,
    factor: Annotated[
        float | None, typer.Option(callback=opt.number(_above_one, "--factor", "--factor 3"),
                                   help="With --halving: share of cells kept per rung (1 / "
                                        "factor) and the epochs' growth. [default: 3]")
    ] = None,
    batch_size: opt.BatchSize = None,
    models_per_program: Annotated[
        str, typer.Option(callback=opt.models_per_program,
                          help="Most models per compiled program; 'auto' fills the memory.")
    ] = "auto",
    n_jobs: Annotated[
        int | None, typer.Option(help="Blocks trained at once (joblib's n_jobs; -1: all "
                                      "workers). Default: 1 locally, all workers on a cluster.")
    ] = None,
    backend: Annotated[
        str, typer.Option(help="Where blocks train: local (processes here), ray or dask.")
    ] = "local",
    address: Annotated[
        str | None, typer.Option(help="Cluster address: Ray HOST:PORT, Dask tcp://HOST:PORT. "
                                      "Default with ray/dask: a cluster on 127.0.0.1.")
    ] = None,
    out_dir: opt.OutFolder = Path("out/sweep"),
    quiet: opt.Quiet = False,
) -> None:  # fmt: skip
    """Train a grid of models x seeds side by side; write results and a report."""
    from jaxmlp.core.devices import use_cpu_cores

    if n_jobs is not None and n_jobs == 0:
        fail("--n-jobs 0 trains nothing; use 1 or more, or -1 for every worker.")
    if factor is not None and not halving:
        fail("--factor sets the rungs of --halving; add --halving, or drop --factor.")
    if backend not in ("local", "ray", "dask"):
        fail(f"--backend {backend!r} is not one of local, ray, dask.")
    if n_jobs in (None, 1) and backend == "local":
        use_cpu_cores()  # before any JAX operation: one device per core for the models
    t_start = time.perf_counter()
    say = printer(quiet)
    split = _split(data, target, dataset, n_samples, noise, data_seed, test_size,
                   drop_missing_target)  # fmt: skip
    output_folder(out_dir)
    from jaxmlp.core.jobs import MemoryBudgetError
    from jaxmlp.workflows.sweep import SweepConfig, run_sweep

    grid = cast(
        dict[str, Any], {"hidden": tuple(hidden), "lr": lr, "alpha": alpha, "momentum": momentum}
    )  # parsed by the option callbacks
    from jaxmlp.workflows.clusters import ClusterError, parallel_backend

    config = SweepConfig(**grid, seeds=seeds, activation=activation, optimizer=optimizer,
                         epochs=epochs, batch_size=batch_size,
                         models_per_program=models_per_program, halving=halving,
                         factor=3.0 if factor is None else factor)  # fmt: skip
    n_models = len(config.cells()) * seeds
    say(f"jaxmlp sweep: {len(config.cells())} grid cells x {seeds} seeds = {n_models} models, "
        f"{len(hidden)} architecture(s), {epochs} epochs")  # fmt: skip
    if halving and len(config.cells()) == 1:
        say("one grid cell: nothing to halve; it trains for --epochs.")
    try:
        workers = None if backend == "local" else n_jobs
        with parallel_backend(backend, address, workers) as cluster_jobs:
            jobs = n_jobs if backend == "local" else cluster_jobs
            if backend != "local":
                say(f"on {backend} ({address or '127.0.0.1, started for this sweep'}): "
                    f"models cut into blocks for {jobs} workers")  # fmt: skip
            config = dataclasses.replace(config, n_jobs=jobs)
            with progress_bar(n_models, "models", enabled=not quiet) as bar:
                # halving's rungs train some models again: the bar counts in models
                progress = (None if bar is None
                            else lambda done, total: bar(done * n_models // total))  # fmt: skip
                result = run_sweep(config, split, progress=progress)
    except (MemoryBudgetError, ValueError, TypeError, ClusterError) as e:
        fail(str(e))
    n_div = int((result.diverged_at > 0).sum())
    say(f"trained {n_models} models in {result.fit_time_s:.2f} s "
        f"({result.n_programs} compiled program(s)); {n_div} diverged")  # fmt: skip
    if halving and len(result.rungs) > 1:
        say(_rungs_line(result))
    say(_best_line(result))
    from jaxmlp.reports.sweep import write_sweep_outputs

    written = write_sweep_outputs(result, out_dir)
    say(f"wrote {len(written)} files to {out_dir}/ in {time.perf_counter() - t_start:.1f} s; "
        f"open {written['report']}")  # fmt: skip
