"""What :class:`~jaxmlp.MLPSearchCV` and :class:`~jaxmlp.MLPHalvingSearchCV` share, as
scikit-learn's ``BaseSearchCV``: the grid's candidates checked before anything trains, the
folds cut once, fits scored (with ``error_score``), ``cv_results_`` built, the best
candidate refit, and prediction delegated to it."""

from __future__ import annotations

import dataclasses
import time
import typing
import warnings
from collections.abc import Mapping, Sequence
from numbers import Integral, Real
from typing import Any

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

__all__ = ["BaseSearch", "Fold", "check_jaxmlp", "cut_folds", "grid_candidates",
           "param_column", "results_table", "score_fits"]  # fmt: skip


def check_jaxmlp(estimator: Any, search: str, instead: str) -> None:
    """Refuse an estimator the engine cannot train, naming scikit-learn's ``instead``."""
    if not isinstance(estimator, BaseMLP):
        kind = type(estimator)
        raise TypeError(
            f"{search} trains jaxmlp estimators only; estimator is {kind.__module__}."
            f"{kind.__qualname__}. Use jaxmlp.MLPClassifier or jaxmlp.MLPRegressor (they take "
            f"scikit-learn's MLP parameters), or scikit-learn's {instead} for other "
            "estimators."
        )


def grid_candidates(estimator: BaseMLP, param_grid: Any) -> list[dict]:
    """The candidates of ``param_grid`` (a dict or a list of dicts, as ``GridSearchCV``),
    each checked against ``estimator``'s parameters before anything trains."""
    grids = [param_grid] if isinstance(param_grid, Mapping) else list(param_grid)
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
    valid = estimator.get_params()
    for params in candidates:
        for name in params:
            if name not in valid:
                raise ValueError(
                    f"Invalid parameter {name!r} in param_grid for "
                    f"{type(estimator).__name__}. Valid parameters: "
                    f"{', '.join(sorted(valid))}."
                )
        # each value checked before anything trains (InvalidParameterError names it)
        clone(estimator).set_params(**params)._validate_params()
    return candidates


@dataclasses.dataclass
class Fold:
    """One cross-validation split's rows, cut once: every candidate's fit on this fold
    gets the very same arrays (so they share one input validation)."""

    train: np.ndarray  # indices, shape (n_train,)
    test: np.ndarray  # indices, shape (n_test,)
    X: Any  # training rows, (n_train, n_features)
    y: Any  # training targets, (n_train,) or (n_train, n_outputs)
    sample_weight: Any  # (n_train,) or None
    X_test: Any
    y_test: Any


def cut_folds(X: Any, y: Any, sample_weight: Any, splits: list) -> list[Fold]:
    """A :class:`Fold` per ``(train, test)`` index pair of ``splits``."""
    folds = []
    for train, test in splits:
        w = None if sample_weight is None else _safe_indexing(sample_weight, train)
        folds.append(Fold(train, test, _safe_indexing(X, train), _safe_indexing(y, train), w,
                          _safe_indexing(X, test), _safe_indexing(y, test)))  # fmt: skip
    return folds


def score_fits(search: Any, estimators: Sequence, errors: Sequence, candidates: list[dict],
               folds: list[Fold]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """Test scores, train scores (nan unless ``search.return_train_score``) and scoring
    times, each of shape (n_candidates, n_folds), of fits laid out candidate-major
    (``estimators[c * n_folds + s]``); a failed fit scores ``search.error_score`` with a
    ``FitFailedWarning``, or re-raises its error under ``error_score='raise'``."""
    n_c, n_s = len(candidates), len(folds)
    test = np.full((n_c, n_s), np.nan)
    train = np.full((n_c, n_s), np.nan)
    score_time = np.zeros((n_c, n_s))
    for k, (est, error) in enumerate(zip(estimators, errors, strict=True)):
        c, s = divmod(k, n_s)
        if error is not None:
            if search.error_score == "raise":
                raise error
            test[c, s] = train[c, s] = search.error_score
            warnings.warn(
                f"Fit of candidate {candidates[c]} on fold {s} failed and was scored "
                f"{search.error_score}: {error}",
                FitFailedWarning,
                stacklevel=3,
            )
            continue
        fold = folds[s]
        t0 = time.perf_counter()
        test[c, s] = search.scorer_(est, fold.X_test, fold.y_test)
        score_time[c, s] = time.perf_counter() - t0
        if search.return_train_score:
            train[c, s] = search.scorer_(est, fold.X, fold.y)
    return test, train, score_time


def param_column(values: list, present: np.ndarray) -> np.ma.MaskedArray:
    """A ``param_<name>`` column as GridSearchCV builds it: a masked array, numeric where
    every present value is a plain number, object otherwise."""
    kept = [v for v, p in zip(values, present, strict=True) if p]
    numeric = all(isinstance(v, Real) and not isinstance(v, bool) for v in kept)
    data = np.empty(len(values), dtype=float if numeric else object)
    for i, v in enumerate(values):
        data[i] = v if present[i] else (np.nan if numeric else None)
    return np.ma.MaskedArray(data, mask=~present)


def results_table(candidates: list[dict], test: np.ndarray, train: np.ndarray | None,
                  fit_time: np.ndarray, score_time: np.ndarray) -> dict:  # fmt: skip
    """``cv_results_`` as ``GridSearchCV`` lays it out: one row per candidate; ``test``,
    ``train`` (None: no train scores), ``fit_time`` and ``score_time`` of shape
    (n_candidates, n_folds)."""
    results: dict = {
        "mean_fit_time": fit_time.mean(axis=1),
        "std_fit_time": fit_time.std(axis=1),
        "mean_score_time": score_time.mean(axis=1),
        "std_score_time": score_time.std(axis=1),
    }
    names = sorted({name for params in candidates for name in params})
    for name in names:
        present = np.array([name in p for p in candidates])
        results[f"param_{name}"] = param_column([p.get(name) for p in candidates], present)
    results["params"] = candidates
    sets = [("test", test)] + ([("train", train)] if train is not None else [])
    for which, scores in sets:
        for s in range(scores.shape[1]):
            results[f"split{s}_{which}_score"] = scores[:, s]
        results[f"mean_{which}_score"] = scores.mean(axis=1)
        results[f"std_{which}_score"] = scores.std(axis=1)
        if which == "test":
            mean = results["mean_test_score"]
            # as GridSearchCV: failed candidates (nan) rank last
            filled = np.where(np.isnan(mean), np.nanmin(mean, initial=0) - 1, mean)
            results["rank_test_score"] = rankdata(-filled, method="min").astype(np.int32)
    return results


def _best_has(name: str):
    def check(self) -> bool:
        est = self.best_estimator_ if hasattr(self, "best_estimator_") else self.estimator
        getattr(est, name)
        return True

    return check


class BaseSearch(BaseEstimator):
    """A search over a jaxmlp estimator, as scikit-learn's ``BaseSearchCV``: ``fit``
    checks the grid, cuts the folds once, lets a subclass's ``_search`` train and score
    the candidates, and refits the best; tags, ``score`` and prediction are the best
    estimator's. (Not for direct use.)"""

    _instead: typing.ClassVar[str] = "GridSearchCV"  # scikit-learn's search, for messages
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

    def __init__(self, estimator, param_grid, *, scoring, cv, refit, return_train_score,
                 error_score, models_per_program, n_jobs, verbose):  # fmt: skip
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

    def fit(self, X, y, groups=None, sample_weight=None):
        """Search the grid (see the class), then refit the best candidate on all of X.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        groups : array-like of shape (n_samples,), default=None
            Group labels for group-aware splitters.
        sample_weight : array-like of shape (n_samples,), default=None
            Passed to each fit (on its training rows).

        Returns
        -------
        self
        """
        check_jaxmlp(self.estimator, type(self).__name__, self._instead)
        self._validate_params()
        candidates = grid_candidates(self.estimator, self.param_grid)
        X, y, groups = indexable(X, y, groups)
        cv = check_cv(self.cv, y, classifier=is_classifier(self.estimator))
        folds = cut_folds(X, y, sample_weight, list(cv.split(X, y, groups)))
        self.n_splits_ = len(folds)
        self.scorer_ = check_scoring(self.estimator, self.scoring)
        self.multimetric_ = False
        self.cv_results_, self.best_index_ = self._search(candidates, folds)
        self.best_params_ = self.cv_results_["params"][self.best_index_]
        self.best_score_ = float(self.cv_results_["mean_test_score"][self.best_index_])
        if self.refit:  # one ordinary fit of the best candidate on all of X
            start = time.perf_counter()
            best = clone(self.estimator).set_params(**self.best_params_)
            kw = {} if sample_weight is None else {"sample_weight": sample_weight}
            self.best_estimator_ = best.fit(X, y, **kw)
            self.refit_time_ = time.perf_counter() - start
            for name in ("classes_", "n_features_in_", "feature_names_in_"):
                if hasattr(best, name):
                    setattr(self, name, getattr(best, name))
        return self

    def _search(self, candidates: list[dict], folds: list[Fold]) -> tuple[dict, int]:
        """``(cv_results_, best_index_)``."""
        raise NotImplementedError

    def _fit(self, fits: list, resume: bool = False) -> tuple[list, np.ndarray, int]:
        """:func:`~jaxmlp.sklearn.bridge.fit_estimators` with the search's settings: the
        per-fit errors, each fit's share of its program's wall time, shape (n_fits,), and
        the number of distinct compiled programs."""
        blocks: list = []
        errors = fit_estimators(fits, models_per_program=self.models_per_program,
                                n_jobs=self.n_jobs, blocks=blocks, resume=resume)  # fmt: skip
        seconds = np.zeros(len(fits))
        for group, members, took in blocks:
            seconds[members] = took / len(members)
            if self.verbose:
                print(f"[{type(self).__name__}] program {group}: {len(members)} fits in "
                      f"{took:.2f} s")  # fmt: skip
        return errors, seconds, len({group for group, _, _ in blocks})

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
