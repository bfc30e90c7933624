"""Option callbacks: each checks one option's value and turns a bad one into a usage error
(exit 2) naming the option, the value and a fix.

Names come from the tables they belong to (activations, optimizers, toy data sets), and
numbers are checked by :mod:`jaxmlp.core.validation`, so the CLI, the library and the
help texts cannot disagree. Nothing here imports JAX: ``jaxmlp --help`` stays fast.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Annotated, Any

import typer

from jaxmlp.cli.common import fail
from jaxmlp.core import activations, optimizers, validation

__all__ = [
    "ACTIVATION_HELP",
    "DATASET_HELP",
    "OPTIMIZER_HELP",
    "batch_size",
    "check_activation",
    "check_dataset",
    "check_optimizer",
    "check_out",
    "check_schedule",
    "columns",
    "cv_alone",
    "cv_folds",
    "float_grid",
    "hidden",
    "hidden_list",
    "models_per_program",
    "n_samples",
    "number",
    "one_network",
]

ACTIVATION_HELP = ", ".join(activations.names()) + "."
OPTIMIZER_HELP = ", ".join(optimizers.OPTIMIZERS) + "."
# the toy sets' names without importing numpy (a test checks them against DATASETS)
DATASET_HELP = "circles, moons, xor, spiral, gaussian."


def _choice(kind: str, valid: Iterable[str]) -> Callable[[str], str]:
    valid = list(valid)

    def check(value: str) -> str:
        if value not in valid:
            raise typer.BadParameter(
                f"unknown {kind} {value!r}. Valid {kind}s: {', '.join(valid)}."
            )
        return value

    return check


def check_dataset(value: str) -> str:
    """A name of :data:`jaxmlp.DATASETS`."""
    from jaxmlp.data.toy import DATASETS

    return _choice("dataset", DATASETS)(value)


check_activation = _choice("activation", activations.names())
check_optimizer = _choice("optimizer", optimizers.OPTIMIZERS)
check_schedule = _choice("schedule", optimizers.SCHEDULES)


def number(check: Callable[..., Any], option: str, example: str) -> Callable[[Any], Any]:
    """A callback applying a :mod:`jaxmlp.core.validation` check (None passes)."""

    def callback(value: Any) -> Any:
        if value is None:
            return value
        try:
            check(option, value, example)
        except (TypeError, ValueError) as e:
            raise typer.BadParameter(str(e).removeprefix(f"{option} ")) from None
        return value

    return callback


def parse_hidden(value: str) -> tuple[int, ...]:
    """Comma-separated positive layer widths, e.g. ``32,32``."""
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


def hidden(value: str) -> tuple[int, ...]:
    """``--hidden``: the parsed widths become the option's value."""
    return parse_hidden(value)


def hidden_list(values: list[str]) -> list[tuple[int, ...]]:
    """A repeated ``--hidden``: several architectures, none twice."""
    archs = [parse_hidden(v) for v in values]
    if len(set(archs)) != len(archs):
        raise typer.BadParameter("the same architecture is given twice.")
    return archs


def float_grid(option: str, example: str, check: Callable[..., Any]) -> Callable[[str], tuple]:
    """A comma-separated grid of numbers, each passing ``check`` (a validation check)."""

    def callback(value: str) -> tuple[float, ...]:
        try:
            values = tuple(float(v) for v in value.replace(" ", "").split(",") if v)
        except ValueError:
            values = ()
        if not values:
            raise typer.BadParameter(
                f"{value!r} is not a comma-separated list of numbers; e.g. {option} {example}."
            )
        for v in values:
            try:
                check("each value", v, f"{option} {example}")
            except ValueError as e:
                raise typer.BadParameter(f"grid value {v:g} is out of range: {e}") from None
        if len(set(values)) != len(values):
            raise typer.BadParameter(f"{value!r} lists a value twice; e.g. {option} {example}.")
        return values

    return callback


def n_samples(value: int) -> int:
    """A toy set's size: at least 4 points."""
    if value < 4:
        raise typer.BadParameter(f"must be at least 4, got {value}; e.g. --n-samples 200.")
    return value


def models_per_program(value: str) -> str | int:
    """'auto' or a positive integer."""
    if value == "auto":
        return value
    if value.isdigit() and int(value) > 0:
        return int(value)
    raise typer.BadParameter(f"must be 'auto' or a positive integer, got {value!r}.")


def batch_size(value: str | None) -> str | int | None:
    """'auto', a positive integer, or not given."""
    if value is None or value == "auto":
        return value
    if str(value).isdigit() and int(value) > 0:
        return int(value)
    raise typer.BadParameter(f"must be 'auto' or a positive integer, got {value!r}.")


def columns(value: str | None) -> list[str] | None:
    """Comma-separated column names."""
    if value is None:
        return None
    cols = [c.strip() for c in value.split(",") if c.strip()]
    if not cols:
        raise typer.BadParameter(f"{value!r} names no column; e.g. --features age,income.")
    return cols


def check_out(value: Path) -> Path:
    """An output folder that is, or can become, writable (nothing is created yet: that
    waits until every option has been checked)."""
    from jaxmlp.io.files import check_can_write_dir

    try:
        return check_can_write_dir(value)
    except ValueError as e:
        raise typer.BadParameter(str(e)) from None


positive = validation.check_positive
rate = validation.check_rate
nonnegative = validation.check_nonnegative
fraction = validation.check_fraction


# Options that several commands share, declared once (the defaults stay with each command)
Dataset = Annotated[str, typer.Option(callback=check_dataset, help=f"Toy data set: {DATASET_HELP}")]
NSamples = Annotated[
    int, typer.Option(callback=n_samples, help="Toy set: points before the split.")
]
Noise = Annotated[
    float, typer.Option(callback=number(nonnegative, "--noise", "--noise 0.2"),
                        help="Toy set: std of the point noise.")
]  # fmt: skip
DataSeed = Annotated[int, typer.Option(help="Seed of the toy data generator.")]
TestSize = Annotated[
    float, typer.Option(callback=number(fraction, "--test-size", "--test-size 0.3"),
                        help="Held-out (validation) fraction.")
]  # fmt: skip
Activation = Annotated[str, typer.Option(callback=check_activation, help=ACTIVATION_HELP)]
Optimizer = Annotated[str, typer.Option(callback=check_optimizer, help=OPTIMIZER_HELP)]
Epochs = Annotated[
    int, typer.Option(callback=number(positive, "--epochs", "--epochs 250"),
                      help="Training epochs.")
]  # fmt: skip
BatchSize = Annotated[
    int | None, typer.Option(callback=number(positive, "--batch-size", "--batch-size 32"),
                             help="Mini-batch size [default: full batch].")
]  # fmt: skip
OutFolder = Annotated[Path, typer.Option("--out", callback=check_out, help="Output folder.")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing.")]


def one_network(ensemble: int | None, cv: str, elsewhere: str | None) -> None:
    """Exit 2 where ``--ensemble K`` or ``--cv K`` comes with ``elsewhere`` (``--stream``,
    several processes), which train one network on a hold-out."""
    if elsewhere is None:
        return
    flag = elsewhere.split()[0]
    if ensemble not in (None, 1):
        fail(f"--ensemble {ensemble} trains its members side by side in memory; {elsewhere} "
             f"trains one network. Drop --ensemble, or drop {flag}.")  # fmt: skip
    if cv not in ("auto", "none"):
        fail(f"--cv {cv} cross-fits its members in memory; {elsewhere} trains one network "
             f"on a hold-out. Drop --cv, or drop {flag}.")  # fmt: skip


def cv_alone(folds: int, test_size: float | None, time_budget: float | None,
             ensemble: int | None = None) -> None:  # fmt: skip
    """Exit 2 where ``--cv K`` comes with an option that holds rows out, trains in rungs,
    or asks for another number of members (each fold is one)."""
    if ensemble is not None and ensemble != folds:
        fail(f"--cv {folds} and --ensemble {ensemble} disagree: cross-fitting trains one "
             f"member per fold ({folds}). Drop --ensemble, or pass --cv none for "
             f"{ensemble} member(s) on a hold-out.")  # fmt: skip
    if test_size is not None:
        fail(f"--cv {folds} and --test-size {test_size} disagree: --cv cross-fits every row, "
             "--test-size holds rows out to score on. Drop --test-size to cross-fit, or "
             "pass --cv none to hold out.")  # fmt: skip
    if time_budget is not None:
        fail(f"--cv {folds} and --time-budget {time_budget:g} disagree: a budgeted fit trains "
             "its members in rungs on one set of rows. Drop one of them (with "
             "--time-budget alone, a holdout scores the model).")  # fmt: skip


def cv_folds(value: str) -> str:
    """``--cv``: 'auto', 'none' or a whole number of folds from 2 to ``MAX_FOLDS``."""
    from jaxmlp.sklearn.cross_fit import MAX_FOLDS

    text = value.strip().lower()
    if text in ("auto", "none") or (text.isdigit() and 2 <= int(text) <= MAX_FOLDS):
        return text
    if text.isdigit() and int(text) > MAX_FOLDS:
        raise typer.BadParameter(
            f"{value!r} folds is more than {MAX_FOLDS}: each fold is one member of the "
            f"ensemble, trained on all the others (5-10 is usual). Use e.g. --cv 5."
        )
    raise typer.BadParameter(f"{value!r} is not a number of folds; use a whole number from "
                             f"2 to {MAX_FOLDS} (e.g. --cv 5), auto or none.")  # fmt: skip
