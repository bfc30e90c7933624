"""Cross-fitting a table model (issue #27): every row trains the final model.

The rows are cut into k folds (stratified for classes); member ``i`` of the ensemble
trains on the other k - 1 folds and stops early on fold ``i`` -- the k members train side
by side as one vectorised program -- and ``predict`` averages them. Each row's
*out-of-fold* prediction comes from the one member that never trained on it, so their
score measures the model on every row without a holdout (AutoGluon's k-fold bagging).

Above :data:`CV_ROWS` rows ``cv='auto'`` keeps a holdout (each member holds out its own
``validation_fraction``): a 10% slice of a large table is already a sure score, and the
baselines' k fits would cost more than they tell.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

__all__ = [
    "CV_ROWS",
    "MAX_FOLDS",
    "fold_curves",
    "make_folds",
    "oof_predictions",
    "oof_scored",
    "resolve_cv",
]

# most rows 'auto' cross-fits (above: a holdout); see benchmarks/README.md
CV_ROWS = 10_000
# most folds: each is a member of the ensemble (k members cost about k fits; 5-10 is
# usual, AutoGluon bags in 8); more is almost always a mistyped number
MAX_FOLDS = 20


def resolve_cv(cv: Any, ensemble: int, n_rows: int, time_budget: float | None) -> int | None:
    """The folds to cross-fit ``n_rows`` rows in, or None for a holdout.

    ``cv`` is None (a holdout), an int >= 2 (that many folds, one member each), or 'auto':
    ``ensemble`` folds up to :data:`CV_ROWS` rows when ``ensemble`` >= 2 and no
    ``time_budget`` is set (a budgeted fit continues its members in rungs, on one set of
    rows), else a holdout.
    """
    if cv is None:
        return None
    if cv == "auto":
        if ensemble < 2 or n_rows > CV_ROWS or time_budget is not None:
            return None
        return int(ensemble)
    return int(cv)


def make_folds(k: int, y: np.ndarray, regression: bool, seed: int,
               classes: Any = None) -> tuple[list[np.ndarray] | None, str | None]:  # fmt: skip
    """``k`` folds of the rows of targets ``y`` (n,): arrays of row indices, stratified by
    class for a classifier; and a note where fewer folds (a class with fewer rows than
    ``k``) or none (too few rows to cut) had to do, naming the class by ``classes`` (the
    labels of ``y``'s indices) where given."""
    from sklearn.model_selection import KFold, StratifiedKFold

    n = len(y)
    if regression:
        if n < 2 * k:
            return None, (f"only {n} rows: not cross-fitted in {k} folds (each needs 2 rows "
                          "or more); trained with a holdout")  # fmt: skip
        splits = KFold(k, shuffle=True, random_state=seed).split(np.zeros(n))
        return [held for _, held in splits], None
    counts = np.bincount(np.asarray(y, np.int64))
    smallest = int(counts.min())
    rarest = ("the rarest class" if classes is None
              else f"the rarest class, '{classes[int(counts.argmin())]}',")  # fmt: skip
    note = None
    if smallest < 2:
        return None, f"{rarest} has a single row: not cross-fitted; trained with a holdout"
    if smallest < k:
        note = (f"{rarest} has {smallest} rows: cross-fitted in {smallest} folds, "
                f"not {k}")  # fmt: skip
        k = smallest
    splits = StratifiedKFold(k, shuffle=True, random_state=seed).split(np.zeros(n), y)
    return [held for _, held in splits], note


def oof_predictions(estimator: Any, X: np.ndarray, folds: list[np.ndarray],
                    regression: bool) -> np.ndarray:  # fmt: skip
    """Each row's prediction by the member that did not train on it: probabilities of
    shape (n, n_classes), or a regressor's (standardised) values of shape (n,). A row of
    a fold whose member diverged (left out) gets the mean of the kept members."""
    members = dict(zip(_kept(estimator, len(folds)), estimator.estimators_, strict=True))
    out = np.asarray(
        estimator.predict(X) if regression else estimator.predict_proba(X), np.float64
    )  # the kept members' mean, for a diverged member's fold
    for i, held in enumerate(folds):
        if i in members:
            member = members[i]
            rows = X[held]
            out[held] = member.predict(rows) if regression else member.predict_proba(rows)
    return out


def oof_scored(estimator: Any, X: np.ndarray, y: np.ndarray, folds: list[np.ndarray],
               regression: bool, mean: float = 0.0,
               scale: float = 1.0) -> tuple[np.ndarray, float | None]:  # fmt: skip
    """:func:`oof_predictions` of the rows X (n, d) with targets ``y`` (class indices, or
    a regressor's standardised values), and their accuracy (R² in the target's units,
    ``y * scale + mean``; None for a constant target)."""
    oof = oof_predictions(estimator, X, folds, regression)
    if not regression:
        return oof, float(np.mean(oof.argmax(axis=1) == y))
    oof, truth = oof * scale + mean, np.asarray(y, np.float64) * scale + mean
    spread = float(np.sum((truth - truth.mean()) ** 2))
    return oof, (1.0 - float(np.sum((truth - oof) ** 2)) / spread) if spread > 0 else None


def _kept(estimator: Any, k: int) -> list[int]:
    """Indices (folds) of the ensemble's kept members."""
    gone = set(getattr(estimator, "diverged_members_", []))
    return [i for i in range(k) if i not in gone]


def fold_curves(estimator: Any) -> np.ndarray | None:
    """Each member's own held-out (loss, score) after every epoch, averaged over the
    members still training: shape (max epochs, 2), nan where no member ran; None without
    early stopping (no held-out curve)."""
    losses = [getattr(m, "validation_loss_curve_", None) or [] for m in estimator.estimators_]
    scores = [getattr(m, "validation_scores_", None) or [] for m in estimator.estimators_]
    if any(len(c) == 0 for c in losses):
        return None
    width = max(len(c) for c in losses)
    out = np.full((len(losses), width, 2), np.nan)
    for i, (loss, score) in enumerate(zip(losses, scores, strict=True)):
        out[i, : len(loss), 0] = loss
        if len(score) == len(loss):
            out[i, : len(score), 1] = score
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # epochs no member ran
        return np.nanmean(out, axis=0)
