"""What ``jaxmlp train`` and ``jaxmlp evaluate`` print: the columns used, the metrics of
jaxmlp next to scikit-learn's MLP and gradient boosting, and which did best -- for a
classifier (accuracy, log loss) or a regressor (R², RMSE, MAE)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jaxmlp.cli.common import err, out
from jaxmlp.workflows.shortfall import shortfall, where

__all__ = ["MAJORITY_SHARE", "best_line", "prepared", "print_evaluation", "print_trained"]

# a class this share of the scored rows: the score line says what always answering it scores
MAJORITY_SHARE = 0.7


def prepared(data: Path, table: Any, say: Any) -> None:
    """What the CLI says once the table is read, before training."""
    for note in table.warnings:
        err.print(f"Warning: {note}")
    if table.task_note:
        say(table.task_note)
    split = table.split
    rows = split.meta.get("rows", {"train": len(split.X_train), "validation": len(split.X_test)})
    k = split.meta.get("folds")
    held = f"{rows['train']} train / {rows['validation']} validation rows"
    if k:
        held = (f"{rows['train']} rows cross-fitted in {k} folds (each member trains on "
                f"{k - 1} and stops on its own; " + ("scored out of fold)"
                if split.meta.get("out_of_fold") else
                f"scored on the test file's {rows['validation']} rows)"))  # fmt: skip
    say(f"jaxmlp train: {data} -> {held}, {len(table.schema.features)} features "
        f"({split.X_train.shape[1]} after encoding), "
        + ("a numeric target (regression)" if table.regression
           else f"{len(table.classes)} classes"))  # fmt: skip
    say(columns_line(table))


def columns_line(table: Any) -> str:
    """Which columns are used and how: numeric ones as they are, categorical ones as one
    input per category."""

    def names(cols: list[str]) -> str:
        return ", ".join(cols[:8]) + (f" and {len(cols) - 8} more" if len(cols) > 8 else "")

    schema, parts = table.schema, []
    if schema.numeric:
        parts.append(f"numeric: {names(schema.numeric)}")
    if schema.onehot:
        encoder = table.preprocessor.named_transformers_["categorical"][-1]
        sizes = [len(c) for c in encoder.categories_]
        shown = [f"{c} ({k} values)" for c, k in zip(schema.onehot, sizes, strict=True)]
        parts.append(f"categorical, one input per value: {names(shown)}")
    if schema.target_encoded:
        encoder = table.preprocessor.named_transformers_["target"][1]
        sizes = [len(c) for c in encoder.categories_]
        shown = [f"{c} ({k} values)" for c, k in zip(schema.target_encoded, sizes, strict=True)]
        parts.append(f"categorical, target-encoded (more values than --max-onehot): "
                     f"{names(shown)}")  # fmt: skip
    if schema.datetime:
        from jaxmlp.data.dates import describe

        dates = table.preprocessor.named_transformers_["datetime"]
        shown = [f"{c} -> {describe(bool(t))}" for c, t in zip(schema.datetime, dates.has_time_,
                                                               strict=True)]  # fmt: skip
        parts.append(f"dates: {names(shown)}")
    return "columns used: " + "; ".join(parts)


def _regression_lines(jx: dict, sk: dict | None, gbm: dict | None, say: Any,
                      scope: str) -> None:  # fmt: skip
    def three(m: dict) -> str:  # R² is None on a single row
        r2 = "- (one row)" if m["r2"] is None else f"{m['r2']:.4f}"
        return f"R² {r2}, RMSE {m['rmse']:.4g}, MAE {m['mae']:.4g}"

    say(f"{scope} {three(jx)}"
        + (f" (scikit-learn MLP: {three(sk)}" if sk else "")
        + (f"; gradient boosting: {three(gbm)}" if gbm else "") + (")" if sk else ""))  # fmt: skip
    if sk and gbm and jx["r2"] is not None:
        scores = {"jaxmlp": jx, "scikit-learn's MLP": sk, "gradient boosting": gbm}
        order = sorted(scores, key=lambda k: -scores[k]["r2"])
        best, runner = order[0], order[1]
        say(f"best {_where(scope)}: {best} (R² {scores[best]['r2']:.4f}, "
            f"{scores[best]['r2'] - scores[runner]['r2']:.4f} above {runner})")  # fmt: skip


def print_trained(result: Any, out_dir: Path, seconds: float, say: Any, as_json: bool) -> None:
    jx, sk, gbm = result.metrics, result.sklearn, result.gbm
    scored = result.model.info.get("scored", "validation rows")
    scope = "out-of-fold" if scored == "out-of-fold" else "validation"
    if result.model.regression:
        _regression_lines(jx, sk, gbm, say, scope)
    else:
        _classification_lines(jx, sk, gbm, say, scope)
    short = shortfall(jx, gbm, result.model.regression, where(scored))
    if short is not None:  # said even with --quiet: a worse model is never taken away unsaid
        err.print(f"Warning: {short['message']}", soft_wrap=True)
    say(f"wrote {out_dir}/ (model.json, arrays.safetensors, report.html) in {seconds:.1f} s; "
        f"open {out_dir / 'report.html'}")  # fmt: skip
    if as_json:
        keys = (("r2", "rmse", "mae") if result.model.regression
                else ("accuracy", "log_loss", "roc_auc")) + ("fit_time_s",)  # fmt: skip
        out.print_json(json.dumps({"model": str(out_dir), "report": str(out_dir / "report.html"),
                                   "task": result.model.task,
                                   "validation": result.model.info["validation"],
                                   "scored": scored,
                                   "sklearn": None if not sk else {k: sk[k] for k in keys},
                                   "gradient_boosting": None if not gbm else
                                   {k: gbm[k] for k in keys},
                                   "fit_time_s": jx["fit_time_s"],
                                   "shortfall": short}))  # fmt: skip


def _main_class(metrics: dict, recall: str = "the report has") -> str | None:
    """Where one class is :data:`MAJORITY_SHARE` of the scored rows or more (accuracy
    alone flatters), what answering it every time scores; else None."""
    support = {r["class"]: r["support"] for r in metrics.get("per_class", ())}
    if not support or not sum(support.values()):
        return None
    top = max(support, key=lambda c: support[c])
    share = support[top] / sum(support.values())
    if share < MAJORITY_SHARE:
        return None
    return (f"(answering '{top}' every time would score {share:.4f}: it is {share:.1%} of "
            f"these rows; {recall} each class's recall)")  # fmt: skip


def _where(scope: str) -> str:
    return "out of fold" if scope == "out-of-fold" else "on the validation rows"


def _classification_lines(jx: dict, sk: dict | None, gbm: dict | None, say: Any,
                          scope: str) -> None:  # fmt: skip
    say(
        f"{scope} accuracy {jx['accuracy']:.4f}, log loss {jx['log_loss']:.4f}"
        + (f" (scikit-learn MLP: {sk['accuracy']:.4f}, {sk['log_loss']:.4f}" if sk else "")
        + (f"; gradient boosting: {gbm['accuracy']:.4f}, {gbm['log_loss']:.4f}" if gbm else "")
        + (")" if sk else "")
    )
    main = _main_class(jx)
    if main:
        say(main)
    if sk and gbm:
        say(
            best_line(
                {"jaxmlp": jx, "scikit-learn's MLP": sk, "gradient boosting": gbm}, _where(scope)
            )
        )


def best_line(scores: dict[str, dict], where: str = "on the validation rows") -> str:
    """Which model did best (``where``: on the validation rows, out of fold): highest
    accuracy, then lowest log loss -- said as it is, jaxmlp or not."""
    best = min(scores, key=lambda k: (-scores[k]["accuracy"], scores[k]["log_loss"]))
    runner = min((k for k in scores if k != best),
                 key=lambda k: (-scores[k]["accuracy"], scores[k]["log_loss"]))  # fmt: skip
    gap = scores[best]["accuracy"] - scores[runner]["accuracy"]
    head = f"best {where}: {best} (accuracy {scores[best]['accuracy']:.4f}, "
    if gap == 0:  # a tie on accuracy: the log loss decided
        return (head + f"tied with {runner}; log loss {scores[best]['log_loss']:.4f} "
                f"against {scores[runner]['log_loss']:.4f})")  # fmt: skip
    return head + f"{gap * 100:.2f} points above {runner})"


def print_evaluation(evaluation: dict, as_json: bool) -> None:
    """The metrics of ``jaxmlp evaluate``."""
    result = evaluation["metrics"]
    if "r2" in result:  # a regressor
        if as_json:
            out.print_json(json.dumps({k: result[k] for k in ("r2", "rmse", "mae")}))
            return
        r2 = "-" if result["r2"] is None else f"{result['r2']:.4f}"
        out.print(f"{len(evaluation['frame'])} rows: R² {r2}, RMSE {result['rmse']:.4g}, "
                  f"MAE {result['mae']:.4g} (target standard deviation "
                  f"{result['target_std']:.4g})")  # fmt: skip
        return
    if as_json:
        keys = ("accuracy", "log_loss", "roc_auc", "per_class", "confusion_matrix")
        out.print_json(json.dumps({k: result[k] for k in keys}))
        return
    per_class = result["per_class"]
    present = sum(1 for r in per_class if r["support"])
    auc = (f", ROC AUC {result['roc_auc']:.4f}" if result["roc_auc"] is not None else
           f"; no ROC AUC: the rows hold {present} of the model's {len(per_class)} "
           "classes")  # fmt: skip
    out.print(f"{len(evaluation['frame'])} rows: accuracy {result['accuracy']:.4f}, log loss "
              f"{result['log_loss']:.4f}{auc}")  # fmt: skip
    main = _main_class(result, "below is")
    if main:
        out.print(main)
    for r in per_class:
        if not r["support"]:  # precision, recall and F1 of a class with no rows say nothing
            out.print(f"  {r['class']}: no rows of this class here")
            continue
        out.print(f"  {r['class']}: precision {r['precision']:.3f}, recall {r['recall']:.3f}, "
                  f"F1 {r['f1']:.3f}, support {r['support']}")  # fmt: skip
