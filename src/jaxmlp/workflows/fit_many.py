"""``fit_many``: the tutorial-level :func:`~jaxmlp.fit` for many models at once.

Every model gets its own seed (initial parameters and shuffling), optimizer settings
(learning rate, momentum, Adam's betas), L2 ``alpha``, dropout rate, swish slope and
training-row weights (a CV-fold mask, bootstrap counts); models that share the network
and the rows' shapes train side by side in one vmapped program, in blocks that fit in
memory. Model ``i`` equals ``fit(...)`` with the ``i``-th settings, to float tolerance.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import numpy as np

from jaxmlp.core import optimizers
from jaxmlp.core.jobs import Job, run_jobs
from jaxmlp.core.nn import Network
from jaxmlp.core.program import DivergenceError, HostData, Hyper
from jaxmlp.core.validation import check_nonnegative, check_positive, check_rate
from jaxmlp.data import Split
from jaxmlp.workflows.fit import History, TrainConfig, history, init_params, tutorial_program

__all__ = ["ManyFitResult", "ManyRun", "fit_many", "run_many"]


class ManyFitResult(NamedTuple):
    """What :func:`fit_many` returns; M models.

    Attributes
    ----------
    params : pytree
        Trained parameters, every leaf with a leading axis of size M.
    history : History
        ``epoch`` of shape (n_evals,); the metrics of shape (M, n_evals) (nan after a
        model diverged).
    settings : dict of ndarray
        Each model's seed, learning_rate, momentum, b1, b2, alpha, dropout, beta; (M,).
    diverged_at : ndarray of shape (M,), int
        First epoch with a non-finite loss, 0 if none; such a model's params are its
        starting ones.
    """

    params: Any
    history: History
    settings: dict
    diverged_at: np.ndarray


def fit_many(
    network: Network,
    split: Split,
    config: TrainConfig = TrainConfig(),
    *,
    optimizer: str = "momentum",
    seeds=0,
    learning_rate=0.05,
    momentum=0.9,
    b1=0.9,
    b2=0.999,
    alpha=0.0,
    dropout=0.0,
    beta=None,
    weights=None,
    models_per_program: int | str = "auto",
    progress: Callable[[int, int], None] | None = None,
    n_jobs: int | None = None,
) -> ManyFitResult:
    """Train many models in one compiled program (per block of models that fit in memory).

    Every per-model argument is a number (shared) or a sequence of length M; all
    sequences must have the same length. To train a grid, pass its flattened product.

    Parameters
    ----------
    network : Network
        Shared by all models (``mlp(..., dropout=True)`` for ``dropout``; a swish network
        for ``beta``).
    split : Split
        Training and test rows, shared.
    config : TrainConfig
        Epochs, batch size, evaluation interval (``config.seed`` is replaced by ``seeds``).
    optimizer : str
        A name of :data:`jaxmlp.OPTIMIZERS`, as :func:`~jaxmlp.fit` (constant schedule).
    seeds : int or sequence of int
        ``PRNGKey`` seed per model: initial parameters and shuffling.
    learning_rate, momentum, b1, b2 : float or sequence of float
        Optimizer settings per model.
    alpha : float or sequence of float
        L2 penalty per model, see :func:`~jaxmlp.fit`.
    dropout : float or sequence of float
        Dropout rate per model.
    beta : float or sequence of float, optional
        Swish slope per model (overrides the network's).
    weights : array of shape (M, n_train), optional
        Training-row weights per model (``fit``'s ``sample_weight``): 0/1 masks for CV
        folds, counts for bootstrap resamples.
    models_per_program : int or 'auto'
        Most models per compiled program; 'auto' fills the available memory, an explicit
        number that does not fit is refused with the estimate.
    progress : callable, optional
        ``progress(models_done, models_total)`` after each compiled block.
    n_jobs : int, optional
        Train blocks of models in parallel joblib workers, as scikit-learn's ``n_jobs``
        (None: 1 unless inside ``joblib.parallel_config``; -1: all). Under
        ``joblib.parallel_config(backend="ray")`` or ``"dask"`` the blocks run on that
        cluster. The numbers depend on ``n_jobs`` and ``models_per_program`` only, never
        on the backend (see :func:`~jaxmlp.core.jobs.run_jobs`).

    Returns
    -------
    ManyFitResult
    """
    optimizers.check_optimizer(optimizer)
    columns = {"seed": seeds, "learning_rate": learning_rate, "momentum": momentum, "b1": b1,
               "b2": b2, "alpha": alpha, "dropout": dropout,
               "beta": 1.0 if beta is None else beta}  # fmt: skip
    settings, weights = _settings(columns, weights, split.X_train.shape[0])
    run = run_many(network, split, config, optimizer, settings, weights,
                   [None] * len(settings["seed"]), config.epochs,
                   models_per_program=models_per_program, progress=progress,
                   n_jobs=n_jobs, swish_beta=beta is not None)  # fmt: skip
    epoch = np.arange(config.eval_every, config.epochs + 1, config.eval_every)
    if config.epochs % config.eval_every:
        epoch = np.append(epoch, config.epochs)
    metrics = np.full((len(run.params), len(epoch), 4), np.nan, np.float32)
    for i, rows in enumerate(run.metrics):
        if rows is not None:
            h = history(rows)
            metrics[i, : len(h.epoch)] = np.stack(h[1:], axis=1)
    stacked = jax.tree_util.tree_map(lambda *xs: np.stack([np.asarray(x) for x in xs]),
                                     *run.params)  # fmt: skip
    h = History(epoch, metrics[..., 0], metrics[..., 1], metrics[..., 2], metrics[..., 3])
    return ManyFitResult(stacked, h, settings, run.diverged_at)


class ManyRun(NamedTuple):
    """What :func:`run_many` returns for M models.

    Attributes
    ----------
    params : list of pytree
        Each model's parameters after the run (its starting ones if it diverged).
    metrics : list of ndarray or None
        Each model's per-epoch metrics of this run, shape (n_epochs_run, 2, 2): sets
        (train, test) x (loss, score), nan where not evaluated; None if it diverged.
    states : list of State or None
        Each model's whole training state to continue from; None if it diverged.
    diverged_at : ndarray of shape (M,), int
        Epoch (counted from the model's first) with a non-finite loss, 0 if none.
    """

    params: list
    metrics: list
    states: list
    diverged_at: np.ndarray


def run_many(network: Network, split: Split, config: TrainConfig, optimizer: str,
             settings: dict, weights: np.ndarray | None, states: list, epochs: int, *,
             models_per_program: int | str = "auto",
             progress: Callable[[int, int], None] | None = None, n_jobs: int | None = None,
             swish_beta: bool = False, chunk_epochs: int | None = None) -> ManyRun:  # fmt: skip
    """Train the M models of checked ``settings`` (see :func:`_settings`) for ``epochs``
    epochs: model ``i`` from ``states[i]`` (a :class:`ManyRun` state: it continues with
    its weights, optimizer moments, shuffling key and epoch count) or, where None, from
    fresh parameters of its seed. Runs of r0, then r1 more epochs equal one run of
    r0 + r1 (successive halving's rungs). ``swish_beta``: the settings' ``beta`` sets
    each model's swish slope (else the network's). ``chunk_epochs`` (default ``config.epochs``)
    is the epochs per compiled call: the same for every rung, one compilation."""
    M = len(settings["seed"])
    program = tutorial_program(network, optimizers.factory(optimizer), split, config,
                               bool((settings["alpha"] != 0).any()),
                               bool((settings["dropout"] > 0).any()),
                               swish_beta, chunk_epochs)  # fmt: skip
    data = HostData.padded(split.X_train, config.targets(split.y_train))
    test = HostData.padded(split.X_test, config.targets(split.y_test))
    params_out: list = [None] * M
    metrics: list = [None] * M
    states_out: list = [None] * M
    jobs = []
    for i in range(M):
        hyper = Hyper(
            learning_rate=float(settings["learning_rate"][i]),
            momentum=float(settings["momentum"][i]),
            beta_1=float(settings["b1"][i]),
            beta_2=float(settings["b2"][i]),
            alpha=float(settings["alpha"][i]),
            dropout=float(settings["dropout"][i]),
            swish_beta=float(settings["beta"][i]),
        )
        seed = int(settings["seed"][i])
        if states[i] is None:
            params_out[i] = init_params(network.init, split.n_features, seed)
        else:
            params_out[i] = states[i].params
        rows = data if weights is None else data._replace(W=weights[i])

        def finish(result, i=i) -> None:
            metrics[i] = result.metrics
            params_out[i] = result.state.params
            states_out[i] = result.state

        jobs.append(Job(program, hyper, states[i], rows, (rows, test), epochs,
                        np.dtype(np.float32), "", finish,
                        params=params_out[i] if states[i] is None else None,
                        seed=seed))  # fmt: skip
    errors = run_jobs(jobs, models_per_program=models_per_program, progress=progress,
                      n_jobs=n_jobs)  # fmt: skip
    for e in errors:
        if e is not None and not isinstance(e, DivergenceError):
            raise e
    diverged = np.array([e.epoch if isinstance(e, DivergenceError) else 0 for e in errors],
                        np.int32)  # fmt: skip
    return ManyRun(params_out, metrics, states_out, diverged)


def _settings(columns: dict, weights: Any, n_train: int) -> tuple[dict, np.ndarray | None]:
    """Every per-model setting as an array of shape (M,), checked; and the row weights."""
    if weights is not None:
        weights = np.asarray(weights, np.float32)
        if weights.ndim != 2 or weights.shape[1] != n_train:
            raise ValueError(
                f"weights must have shape (n_models, {n_train}) (one weight per training "
                f"row and model), got {weights.shape}."
            )
    lengths = {k: len(np.atleast_1d(v)) for k, v in columns.items() if np.ndim(v) > 0}
    if weights is not None:
        lengths["weights"] = weights.shape[0]
    if len(set(lengths.values())) > 1:
        raise ValueError(
            "per-model arguments have different lengths: "
            + ", ".join(f"{k}={n}" for k, n in lengths.items())
            + ". Give each a single value or one value per model."
        )
    M = next(iter(lengths.values()), 1)
    settings = {k: np.broadcast_to(np.asarray(v), (M,)).copy() for k, v in columns.items()}
    if not np.issubdtype(settings["seed"].dtype, np.integer):
        raise TypeError(f"seeds must be integers, got {columns['seed']!r}.")
    check_positive("learning_rate", settings["learning_rate"], "0.01")
    for name in ("momentum", "b1", "b2", "dropout"):
        check_rate(name, settings[name], "0.1" if name == "dropout" else "0.9")
    check_nonnegative("alpha", settings["alpha"], "1e-4")
    return settings, weights
