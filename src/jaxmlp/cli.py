"""The ``jaxmlp`` command line: the only module that prints.

Usage mistakes exit with code 2 and a message naming the option, the value and the fix;
a diverged training exits with code 1. Heavy imports (jax, scikit-learn, matplotlib)
happen inside commands, so ``jaxmlp --help`` is instant.
"""

from __future__ import annotations

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
