"""``MLPSearchCV``: scikit-learn's ``GridSearchCV`` for :class:`~jaxmlp.MLPClassifier` and
:class:`~jaxmlp.MLPRegressor`,
with every candidate x fold that shares a program trained side by side.

Candidates that differ only in numbers the engine traces (``learning_rate_init``,
``alpha``, ``momentum``, ``beta_1``, ``beta_2``, ``epsilon``, ``power_t``, ``tol``,
``n_iter_no_change``, ``dropout`` > 0, ``max_iter``, ``random_state``) and all CV folds
(padded to one row bucket) train in one vmapped program; candidates with another
architecture, activation or solver get a program of their own. Each fit equals
``clone(estimator).set_params(**params).fit(X[train], y[train])`` to float tolerance, so
``cv_results_`` match ``GridSearchCV``'s.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import clone

from jaxmlp.sklearn.search_common import BaseSearch, Fold, results_table, score_fits

__all__ = ["MLPSearchCV"]


class MLPSearchCV(BaseSearch):
    """Exhaustive grid search over an :class:`~jaxmlp.MLPClassifier` or
    :class:`~jaxmlp.MLPRegressor`, vectorised.

    A drop-in for ``sklearn.model_selection.GridSearchCV`` (same parameters, same
    ``cv_results_`` keys, ``best_*`` attributes and refit) for jaxmlp estimators.

    Parameters
    ----------
    estimator : MLPClassifier or MLPRegressor
    param_grid : dict or list of dicts
        Parameter names to lists of values, as for ``GridSearchCV``.
    scoring : str, callable or None, default=None
        One metric (None: the estimator's ``score``: accuracy, or R² for a regressor).
    cv : int, cross-validation generator or iterable, default=None
        As ``GridSearchCV`` (None: 5-fold, stratified for a classifier).
    refit : bool, default=True
        Refit the best candidate on all of X (one more, ordinary fit).
    return_train_score : bool, default=False
    error_score : 'raise' or float, default=nan
        Score of a fit that failed (e.g. diverged); 'raise' re-raises its error.
    models_per_program : int or 'auto', default='auto'
        Most fits trained in one compiled program; 'auto' fills the available memory.
    n_jobs : int, default=None
        Train blocks of fits in parallel joblib workers, as scikit-learn's ``n_jobs``
        (None: 1 unless in a ``joblib.parallel_config`` context; -1: all workers). Under
        ``joblib.parallel_config(backend="ray")`` or ``"dask"`` the blocks run on that
        cluster; each block is still one vectorised program. Results depend on
        ``n_jobs`` and ``models_per_program`` only, never on the backend.
    verbose : int, default=0
        > 0: print one line per compiled group.

    Attributes
    ----------
    cv_results_ : dict of ndarrays
        As ``GridSearchCV.cv_results_``; a fit's time is its program's wall time shared
        equally among the fits trained in it.
    best_estimator_, best_score_, best_params_, best_index_, scorer_, n_splits_,
    refit_time_, multimetric_, classes_ (classifiers), n_features_in_
        As ``GridSearchCV``.
    n_programs_ : int
        Distinct compiled groups the fits were trained in.
    """

    def __init__(
        self,
        estimator,
        param_grid,
        *,
        scoring=None,
        cv=None,
        refit: bool = True,
        return_train_score: bool = False,
        error_score=np.nan,
        models_per_program="auto",
        n_jobs=None,
        verbose: int = 0,
    ):
        super().__init__(
            estimator, param_grid, scoring=scoring, cv=cv, refit=refit,
            return_train_score=return_train_score, error_score=error_score,
            models_per_program=models_per_program, n_jobs=n_jobs, verbose=verbose,
        )  # fmt: skip

    def _search(self, candidates: list[dict], folds: list[Fold]) -> tuple[dict, int]:
        """Every candidate on every fold, side by side."""
        estimators, fits = [], []
        for params in candidates:
            for fold in folds:
                est = clone(self.estimator).set_params(**params)
                estimators.append(est)
                fits.append((est, fold.X, fold.y, fold.sample_weight))
        errors, fit_time, self.n_programs_ = self._fit(fits)
        test, train, score_time = score_fits(self, estimators, errors, candidates, folds)
        results = results_table(
            candidates, test, train if self.return_train_score else None,
            fit_time.reshape(test.shape), score_time,
        )  # fmt: skip
        return results, int(results["rank_test_score"].argmin())
