"""An honest outcome for ``jaxmlp train`` (issue #27): when the model it writes is worse
than what the same command just measured -- gradient boosting on the same validation rows
by more than :data:`MARGIN`, or an R² below 0 (worse than predicting the mean) -- say so
in so many words, in the terminal, in ``--json`` and at the top of the report.
"""

from __future__ import annotations

from typing import Any

__all__ = ["MARGIN", "shortfall", "where"]

# how far below gradient boosting's validation score (accuracy, or R²) a model may be
# before the command says it is worse (issue #20's "within 0.01")
MARGIN = 0.01


def where(scored: str) -> str:
    """Where the scores were measured, as the messages say it: 'out-of-fold' ->
    'out of fold', else 'on the same validation rows'."""
    return "out of fold" if scored == "out-of-fold" else "on the same validation rows"


def shortfall(jaxmlp: dict[str, Any], gbm: dict[str, Any] | None, regression: bool,
              where: str = "on the same validation rows") -> dict[str, Any] | None:  # fmt: skip
    """How the model written falls short, or None if it does not.

    Parameters
    ----------
    jaxmlp : dict
        The model's validation metrics (``accuracy``, or ``r2`` for a regressor).
    gbm : dict or None
        Gradient boosting's on the same rows (None: no baseline was trained).
    regression : bool
    where : str
        Where the scores were measured (:func:`where`), for the message.

    Returns
    -------
    dict or None
        ``metric`` ('accuracy' or 'r2'), ``score``, ``baseline`` (gradient boosting's
        score, or None), ``by`` (how far below it, or None), ``below_zero`` (an R² < 0)
        and ``message``: one paragraph for the user.
    """
    metric = "r2" if regression else "accuracy"
    name = "R²" if regression else "accuracy"
    score = jaxmlp.get(metric)
    if score is None:
        return None
    base = None if gbm is None else gbm.get(metric)
    behind = base is not None and score < base - MARGIN
    below_zero = regression and score < 0
    if not (behind or below_zero):
        return None
    parts = []
    if behind:
        assert base is not None
        parts.append(f"the model written is worse than gradient boosting {where}: "
                     f"{name} {score:.4f} against {base:.4f}, "
                     f"{base - score:.4f} lower")  # fmt: skip
    if below_zero:
        parts.append(f"its R² of {score:.4f} is below 0: it predicts worse than the mean of "
                     "the target would")  # fmt: skip
    fix = (
        "scikit-learn's HistGradientBoosting"
        + ("Regressor" if regression else "Classifier")
        + " suits this table better as it is"
        if behind
        else "check the target and the columns (--features), or train longer (--max-iter)"
    )
    ours, theirs = jaxmlp.get("log_loss"), None if gbm is None else gbm.get("log_loss")
    if behind and ours is not None and theirs is not None and ours < theirs:
        # more right answers is not the whole story: better probabilities are worth saying
        fix += (f" for the classes it picks, though this model's probabilities are the "
                f"better calibrated (log loss {ours:.4f} against {theirs:.4f})")  # fmt: skip
    message = "; ".join(parts) + f". Use it knowing this: {fix}."
    return {"metric": metric, "score": float(score),
            "baseline": None if base is None else float(base),
            "by": None if base is None else float(base - score), "below_zero": bool(below_zero),
            "message": message[0].upper() + message[1:]}  # fmt: skip
