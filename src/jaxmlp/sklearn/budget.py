"""A table network trained within a time budget (``jaxmlp train --time-budget``).

A compiled call of the engine trains up to :data:`~jaxmlp.sklearn.bridge.CHUNK` epochs, so
a deadline checked inside it would be too coarse. The fit goes in *rungs* instead, each
continuing the last from its whole training state (weights, optimizer moments, shuffling
key, epoch and stopping counters; ``fit_estimators(resume=True)``), so that the rungs add
up to one fit: first 1 epoch (compilation included), then 2 more to measure the seconds an
epoch takes (1 where the first rung's time says 2 might not fit), then as many epochs as
the time left allows, measured again after every rung. It ends when every member has
stopped (early stopping, or the training loss's stopping rule), when ``max_iter`` epochs
are trained, or when not even one more epoch fits.

The budget counts the training only: reading, preparing the table, the baselines and
writing the model folder come on top.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable
from typing import Any

from sklearn.exceptions import ConvergenceWarning

from jaxmlp.sklearn import bridge
from jaxmlp.sklearn.ensemble import BaseEnsemble

__all__ = ["MEASURE_EPOCHS", "fit_within"]

# epochs of the rung after the first (whose time is mostly compilation): the measurement
MEASURE_EPOCHS = 2


def fit_within(estimator: Any, X: Any, y: Any, eval_set: list, budget: float,
               progress: Callable[[int, float], None] | None) -> list[str]:  # fmt: skip
    """Fit ``estimator`` (an unfitted ensemble, or one stochastic MLP) on ``X``, ``y``
    watching ``eval_set``, in rungs that end within ``budget`` seconds (see the module
    docstring); ``progress(epochs_done, loss)`` counts every rung's epochs. The members'
    ``max_iter`` is set back to the template's afterwards. Returns notes: what the budget
    cut short (none when the fit ended on its own).

    Only the rung that reaches ``max_iter`` may warn that the optimization has not
    converged; the others are not finished *yet*.
    """
    ensemble = isinstance(estimator, BaseEnsemble)
    template = estimator.estimator if ensemble else estimator
    max_iter = int(template.max_iter)
    start = time.perf_counter()
    done = 0
    try:
        took = _rung(estimator, X, y, eval_set, 1, max_iter, 0, progress)
        done = 1
        if _finished(estimator, done, max_iter):
            return []
        left = budget - (time.perf_counter() - start)
        if left <= 0:
            return [f"the time budget of {budget:g} s was spent on compiling and the first "
                    "epoch; the model trained 1 epoch: raise --time-budget"]  # fmt: skip
        # the first rung's time bounds an epoch's: 1 epoch to measure where 2 might not fit
        n = min(MEASURE_EPOCHS, max_iter - done, max(1, math.floor(left / max(took, 1e-9))))
        while n >= 1:
            took = _rung(estimator, X, y, eval_set, done + n, max_iter, done, progress)
            per_epoch, done = took / n, done + n
            if _finished(estimator, done, max_iter):
                return []
            left = budget - (time.perf_counter() - start)
            n = min(max_iter - done, math.floor(left / per_epoch) if per_epoch > 0 else 0)
        return [f"stopped by the time budget after {done} epochs (--time-budget {budget:g} "
                "s); raise it for a longer fit"]  # fmt: skip
    finally:
        for member in [template, *getattr(estimator, "estimators_", [])]:
            member.set_params(max_iter=max_iter)


def _members(estimator: Any) -> list:
    return list(getattr(estimator, "estimators_", [estimator]))


def _finished(estimator: Any, done: int, max_iter: int) -> bool:
    """Every member met a stopping rule, or ``max_iter`` epochs are trained."""
    return done >= max_iter or all(bool(getattr(m, "stop_training_", False))
                                   for m in _members(estimator))  # fmt: skip


def _rung(estimator: Any, X: Any, y: Any, eval_set: list, epochs: int, max_iter: int,
          done: int, progress: Callable[[int, float], None] | None) -> float:  # fmt: skip
    """Train (the first rung: fit; a later one: continue) until ``epochs`` epochs in all;
    the seconds it took."""
    callback = None
    if progress is not None:

        def callback(ran: int, loss: float) -> None:
            progress(done + ran, loss)

    began = time.perf_counter()
    with warnings.catch_warnings():
        if epochs < max_iter:  # not converged *yet*: no warning
            warnings.simplefilter("ignore", ConvergenceWarning)
        if done == 0:
            template = estimator.estimator if isinstance(estimator, BaseEnsemble) else estimator
            template.set_params(max_iter=epochs)
            estimator.fit(X, y, eval_set=eval_set, callback=callback)
        elif isinstance(estimator, BaseEnsemble):
            estimator._resume(X, y, epochs, eval_set=eval_set, callback=callback)
        else:  # one network: as its fit runs (alone, on its devices), continued
            estimator.set_params(max_iter=epochs)
            plan = estimator._plan(X, y, None, incremental=False, eval_set=eval_set,
                                   continued=True)  # fmt: skip
            bridge.run(bridge.job(estimator, plan, callback), callback)
    return time.perf_counter() - began
