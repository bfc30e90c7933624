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

import time
import typing
import warnings
from collections.abc import Mapping, Sequence
from numbers import Integral, Real

import numpy as np
from scipy.stats import rankdata
from sklearn.base import BaseEstimator, clone, is_classifier
from sklearn.exceptions import FitFailedWarning
from sklearn.metrics import check_scoring
from sklearn.model_selection import ParameterGrid, check_cv
from sklearn.utils import _safe_indexing
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted, indexable

from jaxmlp.sklearn.base import BaseMLP
from jaxmlp.sklearn.bridge import fit_estimators

__all__ = ["MLPSearchCV"]


def _best_has(name: str):
    def check(self) -> bool:
        est = self.best_estimator_ if hasattr(self, "best_estimator_") else self.estimator
        getattr(est, name)
        return True

    return check


def _param_column(values: list, present: np.ndarray) -> np.ma.MaskedArray:
    """A ``param_<name>`` column as GridSearchCV builds it: a masked array, numeric where
    every present value is a plain number, object otherwise."""
    kept = [v for v, p in zip(values, present, strict=True) if p]
    numeric = all(isinstance(v, Real) and not isinstance(v, bool) for v in kept)
    data = np.empty(len(values), dtype=float if numeric else object)
    for i, v in enumerate(values):
        data[i] = v if present[i] else (np.nan if numeric else None)
    return np.ma.MaskedArray(data, mask=~present)


class MLPSearchCV(BaseEstimator):
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

    _parameter_constraints: typing.ClassVar[dict] = {
        "estimator": [BaseMLP],
        "param_grid": [dict, list],
        "scoring": [str, callable, None],
        "cv": ["cv_object"],
        "refit": ["boolean"],
        "return_train_score": ["boolean"],
        "error_score": [StrOptions({"raise"}), Real],
        "models_per_program": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "n_jobs": [Integral, None],
        "verbose": ["verbose"],
    }

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
        self.estimator = estimator
        self.param_grid = param_grid
        self.scoring = scoring
        self.cv = cv
        self.refit = refit
        self.return_train_score = return_train_score
        self.error_score = error_score
        self.models_per_program = models_per_program
        self.n_jobs = n_jobs
        self.verbose = verbose

    def _candidates(self) -> list[dict]:
        grid = self.param_grid
        grids = [grid] if isinstance(grid, Mapping) else list(grid)
        for g in grids:
            if not isinstance(g, Mapping):
                raise TypeError(f"param_grid must be a dict or a list of dicts, got {g!r}.")
            for name, values in g.items():
                if isinstance(values, str) or not isinstance(values, Sequence | np.ndarray):
                    raise TypeError(
                        f"param_grid[{name!r}] must be a list of values, got {values!r}; "
                        f"e.g. {{{name!r}: [{values!r}]}}."
                    )
                if len(values) == 0:
                    raise ValueError(f"param_grid[{name!r}] is empty; give at least one value.")
        candidates = list(ParameterGrid(grids))
        valid = self.estimator.get_params()
        for params in candidates:
            for name in params:
                if name not in valid:
                    raise ValueError(
                        f"Invalid parameter {name!r} in param_grid for "
                        f"{type(self.estimator).__name__}. Valid parameters: "
                        f"{', '.join(sorted(valid))}."
                    )
            # each value checked before anything trains (InvalidParameterError names it)
            clone(self.estimator).set_params(**params)._validate_params()
        return candidates

    def fit(self, X, y, groups=None, sample_weight=None):
        """Fit every candidate on every fold, then refit the best on all of X.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        groups : array-like of shape (n_samples,), default=None
            Group labels for group-aware splitters.
        sample_weight : array-like of shape (n_samples,), default=None
            Passed to each fit (on its training rows).

        Returns
        -------
        self
        """
        self._validate_params()
        candidates = self._candidates()
        X, y, groups = indexable(X, y, groups)
        cv = check_cv(self.cv, y, classifier=is_classifier(self.estimator))
        splits = list(cv.split(X, y, groups))
        self.n_splits_ = len(splits)
        self.scorer_ = check_scoring(self.estimator, self.scoring)
        self.multimetric_ = False

        estimators, fits = [], []
        for params in candidates:
            for train, _ in splits:
                est = clone(self.estimator).set_params(**params)
                w = None if sample_weight is None else _safe_indexing(sample_weight, train)
                estimators.append(est)
                fits.append((est, _safe_indexing(X, train), _safe_indexing(y, train), w))
        blocks: list = []
        errors = fit_estimators(fits, models_per_program=self.models_per_program,
                                n_jobs=self.n_jobs,
                                blocks=blocks)  # fmt: skip
        n_c, n_s = len(candidates), len(splits)
        fit_time = np.zeros(n_c * n_s)
        for group, members, seconds in blocks:
            fit_time[members] = seconds / len(members)
            if self.verbose:
                print(f"[MLPSearchCV] program {group}: {len(members)} fits in {seconds:.2f} s")
        self.n_programs_ = len({group for group, _, _ in blocks})
        test = np.full((n_c, n_s), np.nan)
        train_scores = np.full((n_c, n_s), np.nan)
        score_time = np.zeros((n_c, n_s))
        for k, (est, error) in enumerate(zip(estimators, errors, strict=True)):
            c, s = divmod(k, n_s)
            if error is not None:
                if self.error_score == "raise":
                    raise error
                test[c, s] = train_scores[c, s] = self.error_score
                warnings.warn(
                    f"Fit of candidate {candidates[c]} on fold {s} failed and was scored "
                    f"{self.error_score}: {error}",
                    FitFailedWarning,
                    stacklevel=2,
                )
                continue
            tr, te = splits[s]
            t0 = time.perf_counter()
            test[c, s] = self.scorer_(est, _safe_indexing(X, te), _safe_indexing(y, te))
            score_time[c, s] = time.perf_counter() - t0
            if self.return_train_score:
                train_scores[c, s] = self.scorer_(est, _safe_indexing(X, tr),
                                                  _safe_indexing(y, tr))  # fmt: skip
        self.cv_results_ = self._results(candidates, test, train_scores,
                                        fit_time.reshape(n_c, n_s), score_time)  # fmt: skip
        self.best_index_ = int(self.cv_results_["rank_test_score"].argmin())
        self.best_params_ = candidates[self.best_index_]
        self.best_score_ = float(self.cv_results_["mean_test_score"][self.best_index_])
        if self.refit:
            start = time.perf_counter()
            best = clone(self.estimator).set_params(**self.best_params_)
            kw = {} if sample_weight is None else {"sample_weight": sample_weight}
            self.best_estimator_ = best.fit(X, y, **kw)
            self.refit_time_ = time.perf_counter() - start
            if hasattr(self.best_estimator_, "classes_"):
                self.classes_ = self.best_estimator_.classes_
            self.n_features_in_ = self.best_estimator_.n_features_in_
            if hasattr(self.best_estimator_, "feature_names_in_"):
                self.feature_names_in_ = self.best_estimator_.feature_names_in_
        return self

    def _results(self, candidates, test, train, fit_time, score_time) -> dict:
        n_s = test.shape[1]
        results: dict = {
            "mean_fit_time": fit_time.mean(axis=1),
            "std_fit_time": fit_time.std(axis=1),
            "mean_score_time": score_time.mean(axis=1),
            "std_score_time": score_time.std(axis=1),
        }
        names = sorted({name for params in candidates for name in params})
        for name in names:
            present = np.array([name in p for p in candidates])
            results[f"param_{name}"] = _param_column([p.get(name) for p in candidates], present)
        results["params"] = candidates
        sets = [("test", test)] + ([("train", train)] if self.return_train_score else [])
        for which, scores in sets:
            for s in range(n_s):
                results[f"split{s}_{which}_score"] = scores[:, s]
            results[f"mean_{which}_score"] = scores.mean(axis=1)
            results[f"std_{which}_score"] = scores.std(axis=1)
            if which == "test":
                mean = results["mean_test_score"]
                # as GridSearchCV: failed candidates (nan) rank last
                filled = np.where(np.isnan(mean), np.nanmin(mean, initial=0) - 1, mean)
                results["rank_test_score"] = rankdata(-filled, method="min").astype(np.int32)
        return results

    # ------------------------------------------------------------- delegation to the best

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        inner = self.estimator.__sklearn_tags__()  # a classifier or a regressor, as it is
        tags.estimator_type = inner.estimator_type
        tags.classifier_tags = inner.classifier_tags
        tags.regressor_tags = inner.regressor_tags
        tags.input_tags.sparse = inner.input_tags.sparse
        return tags

    def score(self, X, y):
        """``scorer_`` of ``best_estimator_`` on (X, y)."""
        check_is_fitted(self, "best_estimator_")
        return self.scorer_(self.best_estimator_, X, y)

    @available_if(_best_has("predict"))
    def predict(self, X):
        """``best_estimator_.predict(X)``."""
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_.predict(X)

    @available_if(_best_has("predict_proba"))
    def predict_proba(self, X):
        """``best_estimator_.predict_proba(X)``."""
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_.predict_proba(X)

    @available_if(_best_has("predict_log_proba"))
    def predict_log_proba(self, X):
        """``best_estimator_.predict_log_proba(X)``."""
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_.predict_log_proba(X)
