"""``jaxmlp sweep``: a grid of hyperparameters x seeds, every architecture's models in one
vectorised program (:func:`~jaxmlp.fit_many`), summarised per grid cell.

:func:`run_sweep` trains and returns a :class:`SweepResult`; it prints and writes
nothing (:mod:`jaxmlp.reports.sweep` draws and writes the report).
"""

from __future__ import annotations

import dataclasses
import itertools
import time
import warnings
from collections.abc import Callable

import jax
import numpy as np

from jaxmlp.core.nn import mlp
from jaxmlp.core.optimizers import check_optimizer
from jaxmlp.data import Split
from jaxmlp.workflows.fit import History, TrainConfig
from jaxmlp.workflows.fit_many import fit_many

__all__ = ["GRID_FIELDS", "SweepConfig", "SweepResult", "run_sweep", "table_split"]

GRID_FIELDS = ("hidden", "lr", "alpha", "momentum")


@dataclasses.dataclass(frozen=True)
class SweepConfig:
    """The grid and how each model trains.

    Every combination of ``hidden`` x ``lr`` x ``alpha`` x ``momentum`` is a grid cell;
    each cell trains ``seeds`` models (seeds 0 .. seeds-1).
    """

    hidden: tuple[tuple[int, ...], ...] = ((64,),)
    lr: tuple[float, ...] = (0.01, 0.03, 0.1)
    alpha: tuple[float, ...] = (0.0, 1e-4, 1e-2)
    momentum: tuple[float, ...] = (0.9,)
    seeds: int = 8
    activation: str = "swish"
    optimizer: str = "momentum"
    epochs: int = 250
    batch_size: int | None = None
    eval_every: int = 1
    models_per_program: int | str = "auto"
    n_jobs: int | None = None

    def cells(self) -> list[dict]:
        """The grid cells in row-major order of :data:`GRID_FIELDS`."""
        axes = [getattr(self, f) for f in GRID_FIELDS]
        return [dict(zip(GRID_FIELDS, combo, strict=True)) for combo in itertools.product(*axes)]


@dataclasses.dataclass
class SweepResult:
    """Everything the sweep's outputs are made of.

    Attributes
    ----------
    config : SweepConfig
    split : Split
    cells : list of dict
        Grid cells (hidden, lr, alpha, momentum).
    history : History
        ``epoch`` of shape (n_evals,); metrics of shape (n_cells, n_seeds, n_evals); the
        test split is the validation set.
    diverged_at : ndarray of shape (n_cells, n_seeds), int
    member_proba : callable or None
        ``member_proba(cell, X)`` -> (n_seeds, n, n_classes): every seed's probabilities
        (diverged seeds left out).
    n_classes : int
    n_programs : int
        Compiled programs (one per architecture).
    fit_time_s : float
        Wall time of all training, compilation included.
    """

    config: SweepConfig
    split: Split
    cells: list
    history: History
    diverged_at: np.ndarray
    member_proba: Callable
    n_classes: int
    n_programs: int
    fit_time_s: float

    @property
    def regression(self) -> bool:
        """A regression sweep (a table with a numeric target): scores are R²."""
        return self.split.meta.get("task") == "regression"

    @property
    def score_name(self) -> str:
        return "R²" if self.regression else "accuracy"

    @property
    def score_key(self) -> str:
        """The score's short name in result columns: 'acc' or 'r2'."""
        return "r2" if self.regression else "acc"

    def final(self, field: str) -> np.ndarray:
        """Last evaluated value of a history field, shape (n_cells, n_seeds)."""
        return getattr(self.history, field)[:, :, -1]

    def cell_scores(self) -> tuple[np.ndarray, np.ndarray]:
        """Mean and std over non-diverged seeds of the final validation accuracy (R² for
        regression), (n_cells,)."""
        acc = np.where(self.diverged_at > 0, np.nan, self.final("test_acc"))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # cells where every seed diverged
            return np.nanmean(acc, axis=1), np.nanstd(acc, axis=1)

    def best_cell(self) -> int:
        mean, _ = self.cell_scores()
        if np.isnan(mean).all():
            return 0
        return int(np.nanargmax(mean))

    def rows(self) -> list[dict]:
        """One row per model for the results table (None where a model diverged)."""

        def number(v) -> float | None:
            return round(float(v), 6) if np.isfinite(v) else None

        out = []
        for c, cell in enumerate(self.cells):
            for s in range(self.config.seeds):
                out.append({
                    "hidden": "-".join(map(str, cell["hidden"])), "lr": cell["lr"],
                    "alpha": cell["alpha"], "momentum": cell["momentum"], "seed": s,
                    "train_loss": number(self.final("train_loss")[c, s]),
                    "val_loss": number(self.final("test_loss")[c, s]),
                    f"train_{self.score_key}": number(self.final("train_acc")[c, s]),
                    f"val_{self.score_key}": number(self.final("test_acc")[c, s]),
                    "diverged_at_epoch": int(self.diverged_at[c, s]),
                })  # fmt: skip
        return out


def _arguments(optimizer: str) -> tuple[str, ...]:
    """The optax arguments of ``optimizer`` fed by traced numbers."""
    return tuple(arg for arg, _ in check_optimizer(optimizer).hyper)


def run_sweep(
    config: SweepConfig,
    split: Split,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> SweepResult:
    """Train the grid on ``split`` (test part = validation set) and collect the results.

    Raises
    ------
    ValueError
        A grid value out of range, naming the option and value (from ``fit_many``).
    MemoryBudgetError
        An explicit ``models_per_program`` that does not fit.
    """
    regression = split.meta.get("task") == "regression"
    n_classes = 1 if regression else int(max(split.y_train.max(), split.y_test.max())) + 1
    cells = config.cells()
    S = config.seeds
    train_cfg = TrainConfig(epochs=config.epochs, batch_size=config.batch_size,
                            eval_every=config.eval_every,
                            loss="squared" if regression else "softmax")  # fmt: skip
    histories: list = [None] * len(cells)
    diverged = np.zeros((len(cells), S), np.int32)
    params_by_cell: dict[int, tuple] = {}
    start = time.perf_counter()
    total = len(cells) * S
    done = 0
    for hidden in config.hidden:
        net = (
            mlp(hidden, config.activation, n_outputs=1)
            if regression
            else mlp(hidden, config.activation, n_classes)
        )
        mine = [i for i, c in enumerate(cells) if c["hidden"] == hidden]
        lr = np.repeat([cells[i]["lr"] for i in mine], S)
        alpha = np.repeat([cells[i]["alpha"] for i in mine], S)
        momentum = np.repeat([cells[i]["momentum"] for i in mine], S)
        seeds = np.tile(np.arange(S), len(mine))

        def on_block(k: int, n: int, base: int = done) -> None:
            if progress is not None:
                progress(base + k, total)

        # the grid's momentum is Adam's beta_1 for the Adam family
        first_moment = {"b1": momentum} if "b1" in _arguments(config.optimizer) else {}
        res = fit_many(net, split, train_cfg, optimizer=config.optimizer, seeds=seeds,
                       learning_rate=lr, alpha=alpha, momentum=momentum, **first_moment,
                       models_per_program=config.models_per_program,
                       progress=on_block, n_jobs=config.n_jobs)  # fmt: skip
        done += len(mine) * S
        for j, c in enumerate(mine):
            rows = slice(j * S, (j + 1) * S)
            histories[c] = tuple(getattr(res.history, f)[rows] for f in History._fields[1:])
            diverged[c] = res.diverged_at[rows]
            params_by_cell[c] = (net, jax.tree_util.tree_map(lambda a, r=rows: a[r], res.params))
        epoch = res.history.epoch
    fit_time = time.perf_counter() - start
    history = History(epoch, *(np.stack([h[k] for h in histories]) for k in range(4)))

    def member_proba(cell: int, X: np.ndarray) -> np.ndarray:
        net, params = params_by_cell[cell]
        keep = np.flatnonzero(diverged[cell] == 0)
        kept = jax.tree_util.tree_map(lambda a: a[keep], params)
        logits = jax.vmap(net.apply, in_axes=(0, None))(kept, np.asarray(X, np.float32))
        return np.asarray(jax.nn.softmax(logits, axis=-1))

    return SweepResult(config, split, cells, history, diverged, member_proba, n_classes,
                       len(config.hidden), fit_time)  # fmt: skip


def table_split(path: str, target: str, test_size: float,
                drop_missing_target: bool) -> tuple[Split, list[str]]:  # fmt: skip
    """A table's preprocessed train/validation split for a sweep, and its warnings. A
    numeric target (``--task auto``'s rule) is standardised with the training rows' mean
    and standard deviation (``meta['task'] = 'regression'``): R² does not change.

    Raises
    ------
    TableError
        Anything wrong with the table or the target.
    """
    from jaxmlp.data.prepare import prepare_table
    from jaxmlp.data.tables import read_table

    table = prepare_table(read_table(path), target, test_size=test_size,
                          drop_missing_target=drop_missing_target)  # fmt: skip
    meta = {"source": str(path), "target": target, "task": table.task}
    split = dataclasses.replace(table.split, meta=meta)
    if table.regression:
        mean, std = float(np.mean(split.y_train)), float(np.std(split.y_train)) or 1.0
        split = dataclasses.replace(split, y_train=(split.y_train - mean) / std,
                                    y_test=(split.y_test - mean) / std)  # fmt: skip
    notes = [table.task_note] if table.task_note else []
    return split, notes + list(table.warnings)
