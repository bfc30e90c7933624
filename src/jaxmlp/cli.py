"""The ``jaxmlp`` command line: the only module that prints.

Usage mistakes exit with code 2 and a message naming the option, the value and the fix;
a diverged training exits with code 1. Heavy imports (jax, scikit-learn, matplotlib)
happen inside commands, so ``jaxmlp --help`` is instant.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

app = typer.Typer(
    name="jaxmlp",
    help="Multilayer-perceptron classifiers in JAX.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

# ----------------------------------------------------------------------------- validators


def _choice(kind: str, valid):
    def check(value: str) -> str:
        if value not in valid:
            raise typer.BadParameter(
                f"unknown {kind} {value!r}. Valid {kind}s: {', '.join(valid)}."
            )
        return value

    return check


def _check_dataset(value: str) -> str:
    from jaxmlp.data import DATASETS

    return _choice("dataset", list(DATASETS))(value)


def _check_activation(value: str) -> str:
    from jaxmlp.nn import ACTIVATIONS

    return _choice("activation", list(ACTIVATIONS))(value)


def _check_optimizer(value: str) -> str:
    from jaxmlp.optim import OPTIMIZERS

    return _choice("optimizer", list(OPTIMIZERS))(value)


def _check_schedule(value: str) -> str:
    from jaxmlp.optim import SCHEDULES

    return _choice("schedule", list(SCHEDULES))(value)


def _parse_hidden(value: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(v) for v in value.replace(" ", "").split(",") if v)
    except ValueError:
        sizes = ()
    if not sizes or any(s <= 0 for s in sizes):
        raise typer.BadParameter(
            f"{value!r} is not a comma-separated list of positive layer widths; "
            "e.g. --hidden 64 or --hidden 32,32."
        )
    return sizes


def _positive(example: str):
    def check(value):
        if value is not None and not value > 0:
            raise typer.BadParameter(f"must be > 0, got {value}; e.g. {example}.")
        return value

    return check


def _check_momentum(value: float) -> float:
    if not 0 <= value < 1:
        raise typer.BadParameter(f"must be in [0, 1), got {value}; e.g. --momentum 0.9.")
    return value


def _check_noise(value: float) -> float:
    if not value >= 0:
        raise typer.BadParameter(f"must be >= 0, got {value}; e.g. --noise 0.2.")
    return value


def _check_test_size(value: float) -> float:
    if not 0 < value < 1:
        raise typer.BadParameter(f"must be a fraction in (0, 1), got {value}; e.g. 0.3.")
    return value


def _check_n_samples(value: int) -> int:
    if value < 4:
        raise typer.BadParameter(f"must be at least 4, got {value}; e.g. --n-samples 200.")
    return value


def _check_out(value: Path) -> Path:
    # Only a check here: the folder is created once every option has been validated.
    from jaxmlp.files import check_can_write_dir

    try:
        return check_can_write_dir(value)
    except ValueError as e:
        raise typer.BadParameter(str(e)) from None


def _check_hidden(value: str) -> tuple[int, ...]:
    return _parse_hidden(value)  # the parsed widths become the option's value


# ----------------------------------------------------------------------------- commands


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        out.print(f"jaxmlp {version('jaxmlp')}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show version.")
    ] = False,
) -> None:
    """Multilayer-perceptron classifiers in JAX."""


@app.command()
def demo(
    dataset: Annotated[
        str, typer.Option(callback=_check_dataset, help="circles, moons, xor, spiral, gaussian.")
    ] = "circles",
    n_samples: Annotated[
        int, typer.Option(callback=_check_n_samples, help="Points before the split.")
    ] = 200,
    noise: Annotated[
        float, typer.Option(callback=_check_noise, help="Std of the point noise.")
    ] = 0.2,
    data_seed: Annotated[int, typer.Option(help="Seed of the data generator.")] = 1337,
    test_size: Annotated[
        float, typer.Option(callback=_check_test_size, help="Held-out fraction.")
    ] = 0.3,
    hidden: Annotated[
        str,
        typer.Option(callback=_check_hidden, help="Hidden layer widths, comma-separated: 32,32."),
    ] = "64",
    activation: Annotated[
        str,
        typer.Option(
            callback=_check_activation,
            help="swish, relu, tanh, logistic, sigmoid, gelu, identity.",
        ),
    ] = "swish",
    beta: Annotated[float, typer.Option(help="Swish gate slope.")] = 1.0,
    optimizer: Annotated[
        str,
        typer.Option(
            callback=_check_optimizer, help="sgd, momentum, nesterov, adam, adamw, rmsprop."
        ),
    ] = "momentum",
    lr: Annotated[
        float, typer.Option(callback=_positive("--lr 0.05"), help="Learning rate.")
    ] = 0.05,
    momentum: Annotated[
        float, typer.Option(callback=_check_momentum, help="Momentum ('mass').")
    ] = 0.9,
    schedule: Annotated[
        str,
        typer.Option(callback=_check_schedule, help="constant, exponential, cosine."),
    ] = "constant",
    epochs: Annotated[
        int, typer.Option(callback=_positive("--epochs 250"), help="Training epochs.")
    ] = 250,
    batch_size: Annotated[
        int | None,
        typer.Option(
            callback=_positive("--batch-size 32"), help="Mini-batch size [default: full batch]."
        ),
    ] = None,
    eval_every: Annotated[
        int | None,
        typer.Option(
            callback=_positive("--eval-every 10"),
            help="Record metrics every N epochs [default: every epoch up to 10000 epochs].",
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of jax.random.PRNGKey.")] = 0,
    baseline: Annotated[
        bool, typer.Option("--baseline/--no-baseline", help="Fit scikit-learn's MLP too.")
    ] = True,
    out_dir: Annotated[
        Path, typer.Option("--out", callback=_check_out, help="Output folder.")
    ] = Path("out/demo"),
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing.")] = False,
) -> None:
    """Reproduce the tutorial: train the MLP, compare with scikit-learn, write a report."""
    from jaxmlp.files import ensure_writable_dir

    t_start = time.perf_counter()
    hidden_sizes = tuple(hidden)  # already parsed by _check_hidden
    if not beta > 0:
        raise typer.BadParameter(f"must be > 0, got {beta}.", param_hint="'--beta'")
    if eval_every is None:
        eval_every = 1 if epochs <= 10_000 else epochs // 2_000
    try:
        ensure_writable_dir(out_dir)
    except ValueError as e:
        raise typer.BadParameter(str(e), param_hint="'--out'") from None
    from jaxmlp.cache import enable_compilation_cache

    enable_compilation_cache()

    from jaxmlp.demo import DemoConfig, eval_lines, run_demo
    from jaxmlp.engine import DivergenceError

    config = DemoConfig(
        dataset=dataset, n_samples=n_samples, noise=noise, data_seed=data_seed,
        test_size=test_size, hidden=hidden_sizes, activation=activation, beta=beta,
        optimizer=optimizer, lr=lr, momentum=momentum, schedule=schedule, epochs=epochs,
        batch_size=batch_size, eval_every=eval_every, seed=seed, baseline=baseline,
    )  # fmt: skip
    arch = "-".join(map(str, hidden_sizes))
    say = (lambda *a: None) if quiet else out.print
    batching = "full batch" if batch_size is None else f"batch {batch_size}"
    say(
        f"jaxmlp demo: {dataset}, MLP with hidden layers {arch} ({activation}), "
        f"{optimizer} lr={lr}, {epochs} epochs, {batching}"
    )
    try:
        with _progress(epochs, enabled=not quiet and epochs >= 5_000) as progress:
            result = run_demo(config, progress=progress)
    except DivergenceError as e:
        err.print(f"Error: {e} (--lr is {lr}.)")
        raise typer.Exit(1) from None
    except (ValueError, TypeError) as e:
        err.print(f"Error: {e}")
        raise typer.Exit(2) from None

    if result.baseline is not None:
        b = result.baseline
        say(
            f"scikit-learn MLPClassifier(alpha=1, max_iter=1000, random_state=0): "
            f"test accuracy {b.test_acc:.4f}, test loss {b.test_loss:.4f}, "
            f"{b.n_iter} iterations, fit {b.fit_time_s:.3f} s"
        )
    log = eval_lines(result.history)
    for line in log:
        say(line)
    h = result.history
    say(
        f"final (epoch {h.epoch[-1]}): train loss {h.train_loss[-1]:.5f}, "
        f"test loss {h.test_loss[-1]:.5f}, train acc {h.train_acc[-1]:.5f}, "
        f"test acc {h.test_acc[-1]:.5f}"
    )
    steady = (
        f", {result.steady_fit_time_s * 1e3:.1f} ms compiled" if result.steady_fit_time_s else ""
    )
    say(f"jaxmlp fit: {result.fit_time_s:.3f} s first call (incl. compilation){steady}")

    from jaxmlp.artifacts import write_demo_outputs

    written = write_demo_outputs(result, out_dir, log)
    say(
        f"wrote {len(written)} files to {out_dir}/ ({', '.join(p.name for p in written.values())})"
        f" in {time.perf_counter() - t_start:.1f} s; open {written['report']}"
    )


def _float_list(option: str, example: str, low: float, high: float, closed_low: bool):
    """Callback parsing a comma-separated grid of numbers, each checked against a range."""

    def check(value: str) -> tuple[float, ...]:
        try:
            values = tuple(float(v) for v in value.replace(" ", "").split(",") if v)
        except ValueError:
            values = ()
        if not values:
            raise typer.BadParameter(
                f"{value!r} is not a comma-separated list of numbers; e.g. {option} {example}."
            )
        for v in values:
            inside = (v >= low if closed_low else v > low) and v < high
            if not inside:
                bound = f"{'>=' if closed_low else '>'} {low:g}"
                if high != float("inf"):
                    bound = f"in {'[' if closed_low else '('}{low:g}, {high:g})"
                raise typer.BadParameter(
                    f"grid value {v:g} is out of range: each value must be {bound}; "
                    f"e.g. {option} {example}."
                )
        if len(set(values)) != len(values):
            raise typer.BadParameter(f"{value!r} lists a value twice; e.g. {option} {example}.")
        return values

    return check


def _check_hidden_list(values: list[str]) -> list[tuple[int, ...]]:
    archs = [_parse_hidden(v) for v in values]
    if len(set(archs)) != len(archs):
        raise typer.BadParameter("the same architecture is given twice.")
    return archs


def _check_sweep_optimizer(value: str) -> str:
    return _choice("optimizer", ["sgd", "momentum", "nesterov", "adam"])(value)


def _check_models_per_program(value: str) -> str | int:
    if value == "auto":
        return value
    if value.isdigit() and int(value) > 0:
        return int(value)
    raise typer.BadParameter(f"must be 'auto' or a positive integer, got {value!r}.")


@app.command()
def sweep(
    dataset: Annotated[
        str,
        typer.Option(
            callback=_check_dataset,
            help="Toy set: circles, moons, xor, spiral, gaussian (ignored with --data).",
        ),
    ] = "circles",
    data: Annotated[
        Path | None, typer.Option(help="A CSV or Parquet table instead of a toy set.")
    ] = None,
    target: Annotated[str | None, typer.Option(help="Target column of --data.")] = None,
    drop_missing_target: Annotated[
        bool, typer.Option(help="Drop rows of --data whose target is missing.")
    ] = False,
    n_samples: Annotated[
        int, typer.Option(callback=_check_n_samples, help="Toy set: points before the split.")
    ] = 200,
    noise: Annotated[float, typer.Option(callback=_check_noise, help="Toy set noise.")] = 0.2,
    data_seed: Annotated[int, typer.Option(help="Seed of the toy data generator.")] = 1337,
    test_size: Annotated[
        float, typer.Option(callback=_check_test_size, help="Validation fraction.")
    ] = 0.3,
    hidden: Annotated[
        list[str],
        typer.Option(
            callback=_check_hidden_list,
            help="Hidden layer widths, e.g. 32,32; repeat for several architectures.",
        ),
    ] = ["64"],  # noqa: B006 -- typer's way to give a list option a default
    activation: Annotated[
        str, typer.Option(callback=_check_activation, help="Hidden activation.")
    ] = "swish",
    optimizer: Annotated[
        str, typer.Option(callback=_check_sweep_optimizer, help="sgd, momentum, nesterov, adam.")
    ] = "momentum",
    lr: Annotated[
        str,
        typer.Option(
            callback=_float_list("--lr", "0.01,0.03,0.1", 0, float("inf"), False),
            help="Learning rates, comma-separated.",
        ),
    ] = "0.01,0.03,0.1",
    alpha: Annotated[
        str,
        typer.Option(
            callback=_float_list("--alpha", "0,1e-4,1e-2", 0, float("inf"), True),
            help="L2 penalties, comma-separated.",
        ),
    ] = "0,1e-4,1e-2",
    momentum: Annotated[
        str,
        typer.Option(
            callback=_float_list("--momentum", "0.9", 0, 1, True),
            help="Momenta (or Adam's beta_1), comma-separated.",
        ),
    ] = "0.9",
    seeds: Annotated[
        int, typer.Option(callback=_positive("--seeds 16"), help="Seeds per grid cell.")
    ] = 8,
    epochs: Annotated[
        int, typer.Option(callback=_positive("--epochs 250"), help="Training epochs.")
    ] = 250,
    batch_size: Annotated[
        int | None,
        typer.Option(
            callback=_positive("--batch-size 32"), help="Mini-batch size [default: full batch]."
        ),
    ] = None,
    models_per_program: Annotated[
        str,
        typer.Option(
            callback=_check_models_per_program,
            help="Most models per compiled program; 'auto' fills the memory.",
        ),
    ] = "auto",
    out_dir: Annotated[
        Path, typer.Option("--out", callback=_check_out, help="Output folder.")
    ] = Path("out/sweep"),
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing.")] = False,
) -> None:
    """Train a grid of models x seeds side by side; write results and a report."""
    from jaxmlp.devices import use_cpu_cores
    from jaxmlp.files import ensure_writable_dir

    use_cpu_cores()  # before any JAX operation: one device per core for the models
    t_start = time.perf_counter()
    say = (lambda *a: None) if quiet else out.print
    if data is not None:
        from jaxmlp.tables import TableError, prepare_table, read_table

        if target is None:
            raise typer.BadParameter("--data needs --target COLUMN (the column to predict).",
                                     param_hint="'--target'")  # fmt: skip
        try:
            table = prepare_table(read_table(data), target, test_size=test_size,
                                  drop_missing_target=drop_missing_target)  # fmt: skip
        except TableError as e:
            err.print(f"Error: {e}")
            raise typer.Exit(2) from None
        for note in table.warnings:
            err.print(f"Warning: {note}")
        split = dataclasses.replace(table.split, meta={"source": str(data), "target": target})
    else:
        from jaxmlp.data import make_dataset

        split = make_dataset(dataset, n_samples=n_samples, noise=noise, seed=data_seed,
                             test_size=test_size)  # fmt: skip
    try:
        ensure_writable_dir(out_dir)
    except ValueError as e:
        raise typer.BadParameter(str(e), param_hint="'--out'") from None
    from jaxmlp.cache import enable_compilation_cache

    enable_compilation_cache()
    from jaxmlp.jobs import MemoryBudgetError
    from jaxmlp.sweep import SweepConfig, run_sweep

    config = SweepConfig(hidden=tuple(hidden), lr=lr, alpha=alpha, momentum=momentum,
                         seeds=seeds, activation=activation, optimizer=optimizer, epochs=epochs,
                         batch_size=batch_size, models_per_program=models_per_program)  # fmt: skip
    n_models = len(config.cells()) * seeds
    say(f"jaxmlp sweep: {len(config.cells())} grid cells x {seeds} seeds = {n_models} models, "
        f"{len(hidden)} architecture(s), {epochs} epochs")  # fmt: skip
    try:
        with _count_progress(n_models, enabled=not quiet) as progress:
            result = run_sweep(config, split, progress=progress)
    except MemoryBudgetError as e:
        err.print(f"Error: {e}")
        raise typer.Exit(2) from None
    except (ValueError, TypeError) as e:
        err.print(f"Error: {e}")
        raise typer.Exit(2) from None
    mean, std = result.cell_scores()
    best = result.best_cell()
    cell = result.cells[best]
    n_div = int((result.diverged_at > 0).sum())
    say(f"trained {n_models} models in {result.fit_time_s:.2f} s "
        f"({result.n_programs} compiled program(s)); {n_div} diverged")  # fmt: skip
    if n_div == n_models:
        say("every model diverged: lower the learning rates.")
    else:
        say(f"best: hidden {'-'.join(map(str, cell['hidden']))}, lr {cell['lr']:g}, alpha "
            f"{cell['alpha']:g}, momentum {cell['momentum']:g}: validation accuracy "
            f"{mean[best]:.4f} ± {std[best]:.4f}")  # fmt: skip
    from jaxmlp.sweep_report import write_sweep_outputs

    written = write_sweep_outputs(result, out_dir)
    say(f"wrote {len(written)} files to {out_dir}/ in {time.perf_counter() - t_start:.1f} s; "
        f"open {written['report']}")  # fmt: skip


def _count_progress(total: int, enabled: bool, label: str = "models"):
    """A rich progress bar counting ``label`` (models, epochs), or a no-op context."""
    if not enabled:
        return _NoProgress()
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    class _Bar:
        def __enter__(self):
            self.bar = Progress(TextColumn(label), MofNCompleteColumn(),
                                BarColumn(bar_width=24), console=err)  # fmt: skip
            self.bar.__enter__()
            self.task = self.bar.add_task("sweep", total=total)
            return lambda done, _total: self.bar.update(self.task, completed=done)

        def __exit__(self, *exc):
            return self.bar.__exit__(*exc)

    return _Bar()


class _NoProgress:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


def _progress(epochs: int, enabled: bool):
    """A rich progress bar with the live loss, or a no-op context when disabled."""
    if not enabled:
        return _NoProgress()
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    class _Bar:
        def __enter__(self):
            self.bar = Progress(
                TextColumn("epoch"),
                MofNCompleteColumn(),
                BarColumn(bar_width=24),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                TextColumn("{task.fields[metrics]}"),
                console=err,
            )
            self.bar.__enter__()
            self.task = self.bar.add_task("train", total=epochs, metrics="")
            return self.update

        def update(self, done: int, history) -> None:
            metrics = (
                f"train loss {history.train_loss[-1]:.4f}  test acc {history.test_acc[-1]:.3f}"
                if len(history.epoch)
                else ""
            )
            self.bar.update(self.task, completed=done, metrics=metrics)

        def __exit__(self, *exc):
            return self.bar.__exit__(*exc)

    return _Bar()


# the table commands (train, predict, evaluate) live in their own module
from jaxmlp.cli_tables import register as _register_table_commands  # noqa: E402

_register_table_commands(app)


def main() -> None:
    """Entry point of the ``jaxmlp`` console script.

    Ends with ``os._exit``: with jax, scikit-learn and matplotlib loaded, the interpreter's
    own teardown takes about 0.5 s and does nothing useful here -- every output file has
    been written (atomically) and closed by then, and the streams are flushed first.
    """
    try:
        app()
        code = 0
    except SystemExit as e:
        if isinstance(e.code, str):
            err.print(e.code)
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except KeyboardInterrupt:
        err.print("Interrupted.")
        code = 130
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    main()
