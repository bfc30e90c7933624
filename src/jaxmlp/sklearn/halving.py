"""``MLPHalvingSearchCV``: scikit-learn's ``HalvingGridSearchCV(resource='max_iter')`` for
:class:`~jaxmlp.MLPClassifier` and :class:`~jaxmlp.MLPRegressor`, where the survivors
*continue* from their weights.

Every candidate x fold starts together (side by side, as :class:`~jaxmlp.MLPSearchCV`) for
``min_resources_`` epochs; at each rung the best ``1 / factor`` of the candidates (by mean
test score) continue from their whole training state -- weights, optimizer moments,
shuffling key, stopping counters -- to the next rung's epochs, and the rest stop. A
survivor's fit at a rung therefore equals
``clone(estimator).set_params(**params, max_iter=n_resources).fit(X[train], y[train])``
(to float tolerance): the rungs add up to one fit, and the whole search costs about
``n_iterations_`` fits of the grid's first rung rather than scikit-learn's refits from
scratch, one candidate at a time.
"""

from __future__ import annotations

import typing
import warnings
from math import ceil
from numbers import Integral, Real

import numpy as np
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval, StrOptions

from jaxmlp.core.halving import halving_schedule
from jaxmlp.sklearn.base import BaseMLP
from jaxmlp.sklearn.search_common import BaseSearch, Fold, results_table, score_fits

__all__ = ["MLPHalvingSearchCV"]


class MLPHalvingSearchCV(BaseSearch):
    """Successive halving over a grid, with epochs (``max_iter``) as the resource and the
    survivors continuing from their weights.

    A drop-in for ``sklearn.model_selection.HalvingGridSearchCV(estimator, param_grid,
    resource='max_iter', ...)`` with a jaxmlp estimator: the same parameters, schedule
    (``factor``, ``min_resources``, ``max_resources``, ``aggressive_elimination``),
    ``cv_results_`` layout (a row per candidate per iteration it ran, with ``iter`` and
    ``n_resources``), best candidate (the best of the last iteration) and refit. Scores
    from iteration 1 on differ from scikit-learn's, whose survivors restart from scratch.

    Parameters
    ----------
    estimator : MLPClassifier or MLPRegressor
        With a stochastic solver ('adam', 'sgd' or an optax ``optimizer``); its
        ``max_iter`` is ``max_resources='auto'``.
    param_grid : dict or list of dicts
        Parameter names to lists of values, as for ``GridSearchCV``; not ``max_iter``
        (the resource). A grid of one candidate has nothing to halve: it is trained for
        ``max_resources`` epochs (a warning says so where ``min_resources`` asked for
        fewer).
    factor : float, default=3
        > 1: each iteration keeps ``ceil(n_candidates / factor)`` candidates and multiplies
        the epochs by ``factor``.
    resource : 'max_iter', default='max_iter'
        Epochs are the resource (scikit-learn's 'n_samples' is not supported: there the
        survivors would see other rows, and could not continue).
    max_resources : int or 'auto', default='auto'
        Most epochs a candidate trains ('auto': the estimator's ``max_iter``).
    min_resources : {'exhaust', 'smallest'} or int, default='exhaust'
        Epochs of the first iteration, as scikit-learn: 'smallest' is 1, 'exhaust' the
        most that lets the last iteration reach ``max_resources``.
    aggressive_elimination : bool, default=False
        As scikit-learn: repeat the first rung's epochs until few enough candidates are
        left to end at ``max_resources`` (a repeated rung adds no epochs: its candidates
        are only ranked again).
    cv : int, cross-validation generator or iterable, default=5
        As ``HalvingGridSearchCV`` (stratified for a classifier); split once.
    scoring : str, callable or None, default=None
        One metric (None: the estimator's ``score``: accuracy, or R² for a regressor).
    refit : bool, default=True
        Refit the best candidate (with its ``max_iter``) on all of X: one ordinary fit.
    error_score : 'raise' or float, default=nan
        Score of a fit that failed (e.g. diverged); it is not trained further.
    return_train_score : bool, default=True
    models_per_program : int or 'auto', default='auto'
        Most fits trained in one compiled program; 'auto' fills the available memory.
    n_jobs : int, default=None
        Train blocks of fits in parallel joblib workers, as :class:`~jaxmlp.MLPSearchCV`.
    verbose : int, default=0
        > 0: print the schedule and one line per compiled program run.

    Attributes
    ----------
    n_resources_, n_candidates_ : list of int
        Epochs, and candidates trained, at each iteration.
    n_iterations_, n_possible_iterations_, n_required_iterations_, min_resources_,
    max_resources_, n_remaining_candidates_
        As ``HalvingGridSearchCV``.
    cv_results_ : dict of ndarrays
        As ``HalvingGridSearchCV.cv_results_``: ``params`` hold ``max_iter``; a row's fit
        time is the epochs its iteration added, its program's wall time shared equally
        among the fits trained in it.
    best_estimator_, best_score_, best_params_, best_index_, scorer_, n_splits_,
    refit_time_, multimetric_, classes_ (classifiers), n_features_in_
        As ``HalvingGridSearchCV``; ``best_params_`` include ``max_iter``.

    Notes
    -----
    A candidate whose stopping rule fires (``tol`` and ``n_iter_no_change`` on the
    training loss, or ``early_stopping`` on its held-out rows, the same rows at every
    rung) keeps its weights at later rungs, as one long fit would. There is no
    ``random_state``: nothing is subsampled.
    """

    _instead: typing.ClassVar[str] = "HalvingGridSearchCV"
    _parameter_constraints: typing.ClassVar[dict] = {
        **BaseSearch._parameter_constraints,
        "factor": [Interval(Real, 1, None, closed="neither")],
        "resource": [StrOptions({"max_iter"})],
        "max_resources": [Interval(Integral, 0, None, closed="neither"), StrOptions({"auto"})],
        "min_resources": [
            Interval(Integral, 0, None, closed="neither"),
            StrOptions({"exhaust", "smallest"}),
        ],
        "aggressive_elimination": ["boolean"],
    }

    def __init__(
        self,
        estimator,
        param_grid,
        *,
        factor=3,
        resource="max_iter",
        max_resources="auto",
        min_resources="exhaust",
        aggressive_elimination: bool = False,
        cv=5,
        scoring=None,
        refit: bool = True,
        error_score=np.nan,
        return_train_score: bool = True,
        models_per_program="auto",
        n_jobs=None,
        verbose: int = 0,
    ):
        super().__init__(
            estimator, param_grid, scoring=scoring, cv=cv, refit=refit,
            return_train_score=return_train_score, error_score=error_score,
            models_per_program=models_per_program, n_jobs=n_jobs, verbose=verbose,
        )  # fmt: skip
        self.factor = factor
        self.resource = resource
        self.max_resources = max_resources
        self.min_resources = min_resources
        self.aggressive_elimination = aggressive_elimination

    def _search(self, candidates: list[dict], folds: list[Fold]) -> tuple[dict, int]:
        """The rungs; the best candidate of the last iteration, as HalvingGridSearchCV."""
        _check_resumable(self.estimator, candidates)
        self._schedule(len(candidates))
        results = self._rungs(candidates, folds)
        last = np.flatnonzero(results["iter"] == self.n_iterations_ - 1)
        scores = results["mean_test_score"][last]
        return results, int(last[0 if np.isnan(scores).all() else np.nanargmax(scores)])

    def _schedule(self, n_candidates: int) -> None:
        """Set ``min_resources_``, ``max_resources_``, ``n_*_iterations_``,
        ``n_resources_`` and ``n_candidates_`` as ``HalvingGridSearchCV`` computes them."""
        auto = self.max_resources == "auto"
        self.max_resources_ = int(self.estimator.max_iter if auto else self.max_resources)
        given = self.min_resources not in ("exhaust", "smallest")
        self.min_resources_ = int(self.min_resources) if given else 1
        if self.min_resources_ > self.max_resources_:
            where = " (the estimator's max_iter)" if auto else ""
            raise ValueError(
                f"min_resources={self.min_resources_} is greater than max_resources="
                f"{self.max_resources_}{where}: the first iteration cannot train more epochs "
                f"than the last. Use min_resources <= {self.max_resources_} (or 'exhaust'), "
                "or raise max_resources."
            )
        if n_candidates == 1 and self.min_resources_ != self.max_resources_ and given:
            warnings.warn(
                f"One candidate in param_grid: nothing to halve; it trains for "
                f"max_resources={self.max_resources_} epochs, not "
                f"min_resources={self.min_resources_}.",
                UserWarning,
                stacklevel=3,
            )
        exhaust = self.min_resources == "exhaust"
        plan = halving_schedule(n_candidates, self.max_resources_, self.factor,
                                None if exhaust else self.min_resources_,
                                self.aggressive_elimination)  # fmt: skip
        self.min_resources_ = plan.min_resources
        self.n_required_iterations_ = plan.n_required_iterations
        self.n_possible_iterations_ = plan.n_possible_iterations
        self.n_iterations_ = len(plan.n_resources)
        self.n_resources_, self.n_candidates_ = plan.n_resources, plan.n_candidates
        self.n_remaining_candidates_ = plan.n_remaining_candidates
        if self.verbose:
            print(f"[{type(self).__name__}] epochs {self.n_resources_}, candidates "
                  f"{self.n_candidates_}")  # fmt: skip

    def _rungs(self, candidates: list[dict], folds: list[Fold]) -> dict:
        """Train the rungs; ``cv_results_`` (one row per candidate per iteration)."""
        estimators = [[clone(self.estimator).set_params(**p) for _ in folds]
                      for p in candidates]  # fmt: skip
        failed: dict[tuple[int, int], BaseException] = {}
        alive, done, rows = list(range(len(candidates))), 0, []
        for itr, epochs in enumerate(self.n_resources_):
            pairs = [(c, s) for c in alive for s in range(len(folds)) if (c, s) not in failed]
            seconds = np.zeros((len(candidates), len(folds)))
            if epochs > done:  # (a repeated rung of aggressive_elimination adds none)
                for c, s in pairs:
                    estimators[c][s].set_params(max_iter=epochs)
                with warnings.catch_warnings():
                    if itr < self.n_iterations_ - 1:  # not converged *yet*: no warning
                        warnings.simplefilter("ignore", ConvergenceWarning)
                    errors, took, _ = self._fit(
                        [(estimators[c][s], folds[s].X, folds[s].y, folds[s].sample_weight)
                         for c, s in pairs], resume=itr > 0)  # fmt: skip
                for (c, s), error, t in zip(pairs, errors, took, strict=True):
                    seconds[c, s] = t
                    if error is not None:
                        failed[c, s] = error
            params = [{**candidates[c], "max_iter": epochs} for c in alive]
            test, train, score_time = score_fits(
                self, [estimators[c][s] for c in alive for s in range(len(folds))],
                [failed.get((c, s)) for c in alive for s in range(len(folds))], params, folds,
            )  # fmt: skip
            rows.append((params, test, train, seconds[alive], score_time, itr, epochs))
            alive = _survivors(alive, test.mean(axis=1), ceil(len(alive) / self.factor))
            done = epochs
        return self._results(rows)

    def _results(self, rows: list) -> dict:
        params = [p for row in rows for p in row[0]]
        test, train, fit_time, score_time = (np.concatenate([row[k] for row in rows])
                                             for k in range(1, 5))  # fmt: skip
        results = results_table(params, test, train if self.return_train_score else None,
                                fit_time, score_time)  # fmt: skip
        results["iter"] = np.concatenate([[row[5]] * len(row[0]) for row in rows]).astype(int)
        results["n_resources"] = np.concatenate([[row[6]] * len(row[0]) for row in rows]
                                                ).astype(int)  # fmt: skip
        return results


def _survivors(alive: list[int], scores: np.ndarray, k: int) -> list[int]:
    """The ``k`` best of ``alive`` by mean test score, worst first, failed (nan) ones
    counted worst: the order ``HalvingGridSearchCV`` gives the next iteration's rows."""
    order = np.roll(np.argsort(scores), np.count_nonzero(np.isnan(scores)))
    return [alive[i] for i in order[-k:]]


def _check_resumable(estimator: BaseMLP, candidates: list[dict]) -> None:
    """Epochs are the resource: no candidate may set them, and every one must train
    with a solver whose state can continue."""
    for params in candidates:
        if "max_iter" in params:
            raise ValueError(
                f"param_grid sets max_iter={params['max_iter']!r}, but max_iter is the "
                "resource the search gives out. Remove it from param_grid; max_resources "
                "sets the most epochs."
            )
        est = clone(estimator).set_params(**params)
        if est.solver == "lbfgs" and est.optimizer is None:
            raise ValueError(
                f"solver='lbfgs' (candidate {params}) cannot continue from one rung to "
                "the next (L-BFGS keeps no state between fits). Use solver='adam' or "
                "'sgd', or MLPSearchCV for an L-BFGS grid."
            )
