"""From a scikit-learn estimator's settings to the engine, and back.

A fit is decided on the host as a :class:`FitPlan` (rows, targets, precision, program,
what kind of fit), turned into an engine :class:`~jaxmlp.core.jobs.Job` by :func:`job`,
trained (alone with :func:`run`, or side by side with others by :func:`fit_estimators`),
and its result stored on the estimator by :func:`store`, exactly as scikit-learn's
``MLPClassifier`` or ``MLPRegressor`` would have it:

- initial weights are drawn exactly as scikit-learn draws them (by the estimator), so
  both libraries start from the same point;
- rows are padded with zero-weight rows to a size bucket and all numeric
  hyperparameters are traced values: cross-validation folds that differ by a row, and a
  grid over learning rates, reuse one compiled program;
- scikit-learn's stopping rules (``tol``, ``n_iter_no_change``, early stopping on a held
  out validation set with the best weights restored) and learning-rate schedules run
  inside the compiled program.
"""

from __future__ import annotations

import dataclasses
import functools
import warnings
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import jax
import jax.numpy as jnp
import numpy as np
from sklearn.exceptions import ConvergenceWarning

from jaxmlp.core.jobs import Job, run_jobs
from jaxmlp.core.loop import RunResult, train
from jaxmlp.core.losses import output
from jaxmlp.core.nn import mlp
from jaxmlp.core.program import (
    HostData,
    Hyper,
    Program,
    bucket,
    constant_optimizer,
    feature_bucket,
    init_state,
    precision,
)
from jaxmlp.core.sharding import data_mesh
from jaxmlp.core.validation import caller_stacklevel
from jaxmlp.sklearn.inputs import Validated, dense
from jaxmlp.sklearn.lbfgs import NO_STEPS, fit_lbfgs
from jaxmlp.sklearn.solvers import solver
from jaxmlp.sklearn.state import KINDS, coefs_from_params, params_from_coefs

if TYPE_CHECKING:
    from jaxmlp.sklearn.base import BaseMLP

__all__ = ["CHUNK", "FitPlan", "fit_estimators", "forward", "job", "network", "run", "store"]

CHUNK = 128  # epochs per call of the compiled program (fixed: max_iter never recompiles)


@dataclasses.dataclass
class FitPlan:
    """One fit of an estimator, decided on the host.

    Attributes
    ----------
    X : ndarray of shape (n, n_features)
        Training rows (without the early-stopping validation rows), training dtype.
    targets, weights : ndarray of shape (n,) int32 (softmax) or (n, k); of shape (n,)
    validation : tuple of (X, targets, weights) or None
        The early-stopping validation rows.
    eval_sets : list of (X, targets)
        Sets evaluated after every epoch (``fit(eval_set=...)``).
    dtype : numpy dtype
        Training precision.
    program : Program
    seed : int
        Seed of the shuffling and dropout keys.
    first_pass, incremental : bool
        A fresh model (no warm start, no later ``partial_fit``); ``partial_fit``'s epoch.
    stochastic : bool
        Mini-batch solver ('sgd', 'adam' or an optax optimizer), not L-BFGS.
    validated : Validated
        The validated input (shared by the estimators that fit the same X and y).
    continued : bool
        Resume the whole engine state (weights, optimizer moments, shuffling key, epoch
        and stopping counters) up to ``max_iter`` epochs in all: fits of r0, then r1, then
        r2 epochs equal one fit of r2 epochs (successive halving's rungs).
    """

    X: np.ndarray
    targets: np.ndarray
    weights: np.ndarray
    validation: tuple[np.ndarray, np.ndarray, np.ndarray] | None
    eval_sets: list[tuple[np.ndarray, np.ndarray]]
    dtype: np.dtype
    program: Program
    seed: int
    first_pass: bool
    incremental: bool
    stochastic: bool
    validated: Validated
    continued: bool = False


def network(est: BaseMLP, n_outputs: int, dropout: bool):
    """The estimator's stax network (scikit-learn's 'logistic' is the sigmoid)."""
    return mlp(est._hidden(), est.activation, n_outputs=n_outputs, dropout=dropout)


def program(est: BaseMLP, apply: Callable, kind: str, n_train: int, n_evals: int,
            use_validation: bool, stochastic: bool) -> Program:  # fmt: skip
    """The compiled program of a fit: solver, batch slot, stopping rule, evaluations."""
    if est.optimizer is not None:
        factory, schedule = constant_optimizer(est.optimizer), "constant"
    elif not stochastic:  # L-BFGS: scipy takes the steps (jaxmlp.sklearn.lbfgs)
        factory, schedule = NO_STEPS, "constant"
    else:
        factory = solver(est.solver, bool(est.nesterovs_momentum))
        schedule = est.learning_rate if est.solver == "sgd" else "constant"
    batch = None
    if stochastic:
        wanted = 200 if est.batch_size == "auto" else int(est.batch_size)
        if est.batch_size != "auto" and wanted > n_train:
            warnings.warn(
                "Got `batch_size` less than 1 or larger than sample size. It is going to "
                "be clipped",
                stacklevel=caller_stacklevel(),
            )
        batch = min(wanted, bucket(n_train))
    return Program(
        apply=apply, optimizer=factory, loss=kind, batch=batch, shuffle=bool(est.shuffle),
        schedule=schedule,
        stopping=(_validation_rule(est) if use_validation else "loss") if stochastic else "none",
        keep_best=use_validation, n_evals=n_evals, l2=True, dropout=est.dropout > 0,
        chunk=CHUNK, mesh=data_mesh(est.devices) if stochastic else None,
    )  # fmt: skip


def _validation_rule(est: BaseMLP) -> str:
    """The early-stopping rule: scikit-learn's (the validation score), or the validation
    loss (``early_stopping_metric='loss'``)."""
    return "validation_loss" if est.early_stopping_metric == "loss" else "validation"


def hyper(est: BaseMLP) -> Hyper:
    """The estimator's numbers, traced in the program."""
    return Hyper(
        learning_rate=float(est.learning_rate_init), alpha=float(est.alpha),
        momentum=float(est.momentum), beta_1=float(est.beta_1), beta_2=float(est.beta_2),
        epsilon=float(est.epsilon), power_t=float(est.power_t), tol=float(est.tol),
        n_iter_no_change=float(est.n_iter_no_change), dropout=float(est.dropout),
    )  # fmt: skip


@functools.partial(jax.jit, static_argnums=(0, 1))
def _forward(apply: Callable, kind: str, params: Any, X: jax.Array) -> jax.Array:
    return output(kind, apply(params, X))


def forward(est: BaseMLP, X: Any) -> np.ndarray:
    """The output layer for validated rows X, shape (n, n_outputs), in the training
    precision (as scikit-learn's, whose float32 networks answer in float32): softmax or
    sigmoid probabilities, or identity / exp values (regression)."""
    dtype = est.coefs_[0].dtype
    X = dense(X, dtype)
    n = X.shape[0]
    F = feature_bucket(X.shape[1])  # pad, so that predictions share a few programs
    Xp = np.zeros((bucket(n), F), dtype)
    Xp[:n, : X.shape[1]] = X
    net = network(est, est.n_outputs_, False)
    kind = KINDS[est.out_activation_]
    with precision(dtype):
        params = params_from_coefs(est.coefs_, est.intercepts_, False, dtype, F)
        out = _forward(net.apply, kind, params, jnp.asarray(Xp))
        # slice on the host (a device slice would compile per n); a writable copy
        return np.array(np.asarray(out)[:n], dtype=dtype)


def _pad_columns(X: np.ndarray, n_columns: int) -> np.ndarray:
    if X.shape[1] == n_columns:
        return X
    return np.concatenate([X, np.zeros((X.shape[0], n_columns - X.shape[1]), X.dtype)], 1)


def _padded(X: np.ndarray, targets: np.ndarray, weights: np.ndarray | None, F: int,
            dtype: np.dtype) -> HostData:  # fmt: skip
    return HostData.padded(_pad_columns(X, F), targets, weights, bucket(X.shape[0]), dtype)


def _start(est: BaseMLP, plan: FitPlan, h: Hyper, params: list) -> Any:
    """The starting state; None for a fresh start (the job initialises it from params)."""
    previous = getattr(est, "_engine_state", None)
    if previous is None:
        return None
    if plan.continued:  # everything, counters and a fired stopping rule included
        return previous
    if plan.incremental:
        # host arrays go straight into the compiled program (no eager device ops)
        return previous._replace(done=np.zeros((), bool), epoch=np.zeros((), np.int32))
    state = init_state(plan.program, h, params, plan.seed)
    if previous is not None and not plan.first_pass:  # warm start: keep the counters
        state = state._replace(
            t=jnp.asarray(previous.t), best_loss=jnp.asarray(previous.best_loss),
            best_score=jnp.asarray(previous.best_score),
            no_improve=jnp.asarray(previous.no_improve),
        )  # fmt: skip
    return state


def job(est: BaseMLP, plan: FitPlan,
        callback: Callable[[int, float], None] | None = None) -> Job:  # fmt: skip
    """The engine job of ``plan``; its ``finish`` stores the result on ``est`` (an L-BFGS
    fit is a ``host`` job, see :mod:`jaxmlp.sklearn.lbfgs`; ``callback`` is for it)."""
    h = hyper(est)
    F = getattr(est, "_n_inputs", None)
    if F is None:  # fixed at the first fit of a model
        # pad columns only where compilation dominates (small data); on large data the
        # padded columns would cost first-layer FLOPs for nothing
        n, n_features = plan.X.shape
        F = est._n_inputs = feature_bucket(n_features) if n <= 4096 else n_features
    dtype = plan.dtype
    data = _padded(plan.X, plan.targets, plan.weights, F, dtype)
    evals: tuple[HostData, ...] = ()
    if plan.validation is not None:
        evals = (_padded(*plan.validation, F, dtype),)
    evals += tuple(_padded(X, t, None, F, dtype) for X, t in plan.eval_sets)
    with precision(dtype):
        params = params_from_coefs(est._latest_coefs, est._latest_intercepts,
                                   plan.program.dropout, dtype, F, host=True)  # fmt: skip
        state = _start(est, plan, h, params)

    def finish(result: RunResult) -> None:
        store(est, plan, result)

    def host() -> None:  # L-BFGS: scipy's L-BFGS-B on the compiled objective
        fit_lbfgs(est, plan.program, h, data, evals, F, callback)

    epochs = int(est.max_iter) - (int(state.epoch) if plan.continued else 0)
    return Job(
        program=plan.program, hyper=h, state=state, data=data, evals=evals,
        max_epochs=1 if plan.incremental else epochs, dtype=np.dtype(dtype),
        hint=_divergence_hint(est, plan.X, dtype), finish=finish,
        host=None if plan.stochastic else host, params=params, seed=plan.seed,
    )  # fmt: skip


LARGE_INPUT = 1e6  # larger features: likelier the cause of a divergence than the step


def _divergence_hint(est: BaseMLP, X: Any, dtype: Any) -> str:
    """What a :class:`DivergenceError` of this fit adds to its message: the learning rate,
    or -- for inputs of huge magnitude -- that they need scaling. Inputs so large that the
    first layer's products overflow the training precision are refused now, with
    scikit-learn's message (its ``MLPRegressor`` raises it after training)."""
    values = X.data if hasattr(X, "tocsr") else np.asarray(X)
    peak = float(np.max(np.abs(values))) if values.size else 0.0
    if peak > np.sqrt(np.finfo(dtype).max):
        raise ValueError(
            "Solver produced non-finite parameter weights. The input data may contain large "
            f"values and need to be preprocessed: its largest magnitude is {peak:.3g}, "
            f"beyond what {np.dtype(dtype).name} products hold. Scale the features (e.g. "
            "sklearn.preprocessing.StandardScaler) before fitting."
        )
    if peak > LARGE_INPUT:
        return (f" The input's largest magnitude is {peak:.3g}: scale the features (e.g. "
                "sklearn.preprocessing.StandardScaler) rather than the learning rate.")  # fmt: skip
    return f" (learning_rate_init is {est.learning_rate_init}.)"


def fresh_job(est: BaseMLP, X: Any, y: Any) -> Job:
    """The engine job of a fresh ``est.fit(X, y)`` without running it, for a caller that
    feeds the rows itself (``jaxmlp train --stream``: ``X``, ``y`` are a sample that fixes
    the network, the classes and the initial weights); its ``finish`` stores the result."""
    return job(est, est._plan(X, y, None, incremental=False))


def run(the_job: Job, callback: Callable[[int, float], None] | None = None) -> None:
    """Train one job alone and store its result; ``callback(epochs_done, loss)`` after
    every chunk of epochs."""
    if the_job.host is not None:
        the_job.host()
        return
    on_chunk = None
    if callback is not None:

        def on_chunk(done: int, result: RunResult) -> None:
            callback(done, float(result.losses[-1]) if len(result.losses) else float("nan"))

    with precision(the_job.dtype):
        data, evals = the_job.device_data()
        result = train(the_job.program, the_job.hyper, the_job.start(), data, evals,
                       max_epochs=the_job.max_epochs, divergence_hint=the_job.hint,
                       callback=on_chunk)  # fmt: skip
        the_job.finish(result)


def store(est: BaseMLP, plan: FitPlan, result: RunResult) -> None:
    """Set the fitted attributes of ``est`` from a run, as scikit-learn's fit would."""
    state, use_val = result.state, plan.validation is not None
    n_run = len(result.losses)
    est._engine_state = jax.tree_util.tree_map(np.asarray, state)
    est._latest_coefs, est._latest_intercepts = coefs_from_params(state.params,
                                                                  est.n_features_in_)  # fmt: skip
    params = state.best_params if use_val else state.params
    est.coefs_, est.intercepts_ = coefs_from_params(params, est.n_features_in_)
    if not all(np.isfinite(a).all() for a in (*est.coefs_, *est.intercepts_)):
        raise ValueError(
            "Solver produced non-finite parameter weights. The input data may contain "
            "large values and need to be preprocessed."
        )
    est.n_iter_ = int(state.epoch) if plan.continued else n_run  # as one fit would say
    est.stop_training_ = bool(state.done)
    if plan.eval_sets:  # (epochs, sets, [loss, accuracy])
        curves = result.metrics[:, int(use_val) :]
        before = getattr(est, "eval_curves_", None) if plan.continued else None
        est.eval_curves_ = curves if before is None else np.concatenate([before, curves])
    _store_curves(est, result, use_val)
    if not plan.incremental and not state.done and est.n_iter_ == est.max_iter:
        warnings.warn(
            f"Stochastic Optimizer: Maximum iterations ({est.max_iter}) reached and the "
            "optimization hasn't converged yet.",
            ConvergenceWarning,
            stacklevel=caller_stacklevel(),
        )


def _store_curves(est: BaseMLP, result: RunResult, use_val: bool) -> None:
    state = result.state
    est.t_ = round(float(state.t))
    losses = [float(v) for v in result.losses]
    est.loss_curve_ = list(getattr(est, "loss_curve_", None) or []) + losses
    if losses:  # none where a continued fit had already stopped
        est.loss_ = losses[-1]
    if use_val:
        est.validation_scores_ = list(est.validation_scores_ or []) + [
            float(v) for v in result.metrics[:, 0, 1]
        ]
        est.validation_loss_curve_ = list(est.validation_loss_curve_ or []) + [
            float(v) for v in result.metrics[:, 0, 0]
        ]
        est.best_validation_score_ = float(state.best_score)
        est.best_loss_ = None
    else:
        est.best_loss_ = float(state.best_loss)
    if est.verbose:
        start = len(est.loss_curve_) - len(losses)
        scores = est.validation_scores_ or []
        for i, loss in enumerate(losses):
            print(f"Iteration {start + i + 1}, loss = {loss:.8f}")
            if use_val:
                print(f"Validation score: {scores[start + i]:f}")


def fit_estimators(
    fits: Sequence[tuple[Any, Any, Any, Any]],
    *,
    models_per_program: int | str = "auto",
    progress: Callable[[int, int], None] | None = None,
    blocks: list | None = None,
    params_checked: bool = False,
    n_jobs: int | None = None,
    eval_set: Sequence | None = None,
    callback: Callable[[int, float], None] | None = None,
    resume: bool = False,
) -> list[BaseException | None]:
    """Fit jaxmlp estimators side by side: ``fits`` holds ``(estimator, X, y,
    sample_weight)``; each estimator ends up as if ``estimator.fit(X, y, sample_weight)``
    had run alone (to float tolerance). Returns the per-fit errors, as
    :func:`~jaxmlp.core.jobs.run_jobs`.

    Fresh estimators given the very same X and y objects (ensemble members, a grid's
    candidates on one fold) share one validation of the input; ``params_checked`` says the
    caller already validated the estimators' parameters (ensemble members of one
    template); ``eval_set`` pairs are evaluated after every epoch of every fit (as
    ``fit(eval_set=...)``); ``callback(epochs_done, mean_loss)`` after every chunk of
    epochs trained in this process (see :func:`~jaxmlp.core.jobs.run_jobs`).

    ``resume=True`` continues each fitted (stochastic) estimator on the same X and y from
    its whole engine state -- weights, optimizer moments, shuffling key, epoch and
    stopping counters -- until it has trained ``max_iter`` epochs in all: fits to r0, then
    r1, then r2 epochs end as one ``fit`` of r2 epochs (the rungs of
    :class:`~jaxmlp.MLPHalvingSearchCV`); ``n_iter_`` and the curves count every epoch,
    and an estimator that met a stopping rule keeps its weights."""
    jobs = []
    checked: dict[tuple, Any] = {}
    for est, X, y, w in fits:
        if not params_checked:
            est._validate_params()
        key = (id(X), id(y), est.dtype)
        shares = resume or not hasattr(est, "coefs_")  # the input as its first fit saw it
        plan = est._plan(X, y, w, incremental=False, eval_set=eval_set,
                         shared=checked.get(key) if shares else None,
                         continued=resume)  # fmt: skip
        if shares:
            checked.setdefault(key, plan.validated)
        jobs.append(job(est, plan))
    return run_jobs(jobs, models_per_program=models_per_program, progress=progress,
                    blocks=blocks, n_jobs=n_jobs, epochs=callback)  # fmt: skip
