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

from jaxmlp.core.halving import HalvingSchedule, halving_schedule
from jaxmlp.core.nn import mlp
from jaxmlp.core.optimizers import check_optimizer
from jaxmlp.core.validation import check_nonnegative, check_positive, check_rate
from jaxmlp.data import Split
from jaxmlp.workflows.fit import History, TrainConfig
from jaxmlp.workflows.fit_many import ManyRun, run_many

__all__ = ["GRID_FIELDS", "SweepConfig", "SweepResult", "run_sweep", "table_split"]

GRID_FIELDS = ("hidden", "lr", "alpha", "momentum")


@dataclasses.dataclass(frozen=True)
class SweepConfig:
    """The grid and how each model trains.

    Every combination of ``hidden`` x ``lr`` x ``alpha`` x ``momentum`` is a grid cell;
    each cell trains ``seeds`` models (seeds 0 .. seeds-1). With ``halving`` the cells
    race in rungs of successive halving (``factor``: the share kept and the epochs'
    growth per rung) and only the last rung's cells reach ``epochs``.
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
    halving: bool = False
    factor: float = 3.0

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
    epochs_trained : ndarray of shape (n_cells,), int
        Epochs each cell trained (``config.epochs`` for all without halving).
    rungs : list of (int, int)
        Epochs reached and cells trained at each rung of halving (one rung without).
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
    epochs_trained: np.ndarray
    rungs: list

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
        """Last evaluated value of a history field, shape (n_cells, n_seeds): at each
        cell's last epoch (a cell halving stopped early: at its last rung)."""
        last = np.searchsorted(self.history.epoch, self.epochs_trained, side="right") - 1
        values = getattr(self.history, field)
        return values[np.arange(len(self.cells)), :, np.maximum(last, 0)]

    def survivors(self) -> np.ndarray:
        """The cells that trained the most epochs (all of them without halving), (k,)."""
        return np.flatnonzero(self.epochs_trained == self.epochs_trained.max())

    def cell_scores(self) -> tuple[np.ndarray, np.ndarray]:
        """Mean and std over non-diverged seeds of the final validation accuracy (R² for
        regression), (n_cells,)."""
        acc = np.where(self.diverged_at > 0, np.nan, self.final("test_acc"))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # cells where every seed diverged
            return np.nanmean(acc, axis=1), np.nanstd(acc, axis=1)

    def best_cell(self) -> int:
        """The best of :meth:`survivors` by mean validation score."""
        mean, _ = self.cell_scores()
        last = self.survivors()
        if np.isnan(mean[last]).all():
            return int(last[0])
        return int(last[np.nanargmax(mean[last])])

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
                    "epochs": int(self.epochs_trained[c]),
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

    With ``config.halving`` the cells race in rungs (:func:`~jaxmlp.core.halving.
    halving_schedule`): after each rung the best ``1 / factor`` of the cells by mean
    validation score over their seeds continue from their whole training state, the
    others stop; a survivor's models end as if trained ``epochs`` epochs in one run.

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
    S, E = config.seeds, config.epochs
    train_cfg = TrainConfig(epochs=E, batch_size=config.batch_size,
                            eval_every=config.eval_every,
                            loss="squared" if regression else "softmax")  # fmt: skip
    schedule = (halving_schedule(len(cells), E, config.factor) if config.halving
                else HalvingSchedule([E], [len(cells)], E, 1, 1, len(cells)))  # fmt: skip
    nets = {hidden: mlp(hidden, config.activation, n_outputs=1) if regression
            else mlp(hidden, config.activation, n_classes)
            for hidden in config.hidden}  # fmt: skip
    metrics = np.full((len(cells), S, E, 4), np.nan, np.float32)
    diverged = np.zeros((len(cells), S), np.int32)
    states: list = [[None] * S for _ in cells]
    params: list = [[None] * S for _ in cells]
    trained = np.zeros(len(cells), np.int32)
    alive = list(range(len(cells)))
    total, done = sum(schedule.n_candidates) * S, 0
    start = time.perf_counter()
    for rung, epochs in enumerate(schedule.n_resources):
        if rung:  # the best 1/factor of the cells go on
            scores = _mean_scores(metrics, diverged, alive, trained[alive[0]])
            keep = np.argsort(-np.nan_to_num(scores, nan=-np.inf), kind="stable")
            alive = sorted(alive[i] for i in keep[: schedule.n_candidates[rung]])
        for hidden, net in nets.items():
            mine = [c for c in alive if cells[c]["hidden"] == hidden]
            models = [(c, s) for c in mine for s in range(S) if not diverged[c, s]]
            if not models:
                continue
            run = _run_models(net, split, train_cfg, config, [cells[c] for c, _ in models],
                              [s for _, s in models], [states[c][s] for c, s in models],
                              epochs - trained[mine[0]], schedule.min_resources, done,
                              total, progress)  # fmt: skip
            for k, (c, s) in enumerate(models):
                if run.metrics[k] is not None:
                    rows = run.metrics[k].reshape(len(run.metrics[k]), 4)
                    first = trained[c]
                    metrics[c, s, first : first + len(rows)] = rows[:, [0, 2, 1, 3]]
                params[c][s], states[c][s] = run.params[k], run.states[k]
                diverged[c, s] = run.diverged_at[k]  # counted from the model's first epoch
            done += len(mine) * S
        trained[alive] = epochs
    fit_time = time.perf_counter() - start
    epoch = np.arange(config.eval_every, E + 1, config.eval_every)
    if E % config.eval_every:
        epoch = np.append(epoch, E)
    evaluated = metrics[:, :, epoch - 1]
    history = History(epoch, *(evaluated[..., k] for k in range(4)))

    def member_proba(cell: int, X: np.ndarray) -> np.ndarray:
        net = nets[cells[cell]["hidden"]]
        keep = [s for s in range(S) if diverged[cell, s] == 0]
        kept = jax.tree_util.tree_map(lambda *a: np.stack(a), *(params[cell][s] for s in keep))
        logits = jax.vmap(net.apply, in_axes=(0, None))(kept, np.asarray(X, np.float32))
        return np.asarray(jax.nn.softmax(logits, axis=-1))

    rungs = list(zip(schedule.n_resources, schedule.n_candidates, strict=True))
    return SweepResult(config, split, cells, history, diverged, member_proba, n_classes,
                       len(config.hidden), fit_time, trained, rungs)  # fmt: skip


def _mean_scores(metrics: np.ndarray, diverged: np.ndarray, cells: list[int],
                 epochs: int) -> np.ndarray:  # fmt: skip
    """Mean validation score over the non-diverged seeds of ``cells`` at ``epochs`` (nan
    where every seed diverged), shape (len(cells),)."""
    score = metrics[cells, :, epochs - 1, 3]
    score = np.where(diverged[cells] > 0, np.nan, score)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(score, axis=1)


def _run_models(net, split: Split, train_cfg: TrainConfig, config: SweepConfig,
                cells: list[dict], seeds: list[int], states: list, epochs: int,
                chunk: int, done: int, total: int,
                progress: Callable[[int, int], None] | None) -> ManyRun:  # fmt: skip
    """One architecture's models (one per ``cells[k]``, ``seeds[k]``) trained ``epochs``
    more epochs, from ``states`` where given."""
    momentum = np.array([c["momentum"] for c in cells])
    columns = {"seed": np.array(seeds), "learning_rate": np.array([c["lr"] for c in cells]),
               "momentum": momentum, "b1": momentum if "b1" in _arguments(config.optimizer)
               else 0.9, "b2": 0.999, "alpha": np.array([c["alpha"] for c in cells]),
               "dropout": 0.0, "beta": 1.0}  # fmt: skip
    settings = {k: np.broadcast_to(np.asarray(v), (len(cells),)).copy()
                for k, v in columns.items()}  # fmt: skip
    check_positive("learning_rate", settings["learning_rate"], "0.01")
    check_rate("momentum", settings["momentum"], "0.9")
    check_nonnegative("alpha", settings["alpha"], "1e-4")

    def on_block(k: int, n: int) -> None:
        if progress is not None:
            progress(min(done + k, total), total)

    return run_many(net, split, train_cfg, config.optimizer, settings, None, states, epochs,
                    models_per_program=config.models_per_program, progress=on_block,
                    n_jobs=config.n_jobs,
                    chunk_epochs=chunk if config.halving else None)  # fmt: skip


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
