"""Using a table model that ``jaxmlp train`` wrote: what ``jaxmlp predict`` and
``jaxmlp evaluate`` do (:func:`load_table_model`, :func:`predict_table`,
:func:`evaluate_table`), as functions that return values and print nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from jaxmlp.data.schema import row_ids
from jaxmlp.data.tables import TableError, read_table
from jaxmlp.sklearn.table_model import TableModel
from jaxmlp.workflows.table import data_summary, metrics
from jaxmlp.workflows.table_regression import evaluate_regression

__all__ = ["evaluate_table", "load_table_model", "predict_table"]


def load_table_model(path: str | Path) -> TableModel:
    """The table model in a model folder (a bare estimator is a TableError)."""
    from jaxmlp.io.model_files import load

    model = load(path)
    if not isinstance(model, TableModel):
        raise TableError(f"'{path}' holds a bare {type(model).__name__}, not a table model "
                         "from `jaxmlp train`; load it in Python with jaxmlp.load().")  # fmt: skip
    return model


def _rows(model: TableModel, data: str | Path, labelled: bool = False) -> tuple[Any, list[str]]:
    df = read_table(data)
    df = df.set_axis([str(c) for c in df.columns], axis=1)
    if labelled:
        if model.target not in df.columns:
            raise TableError(f"'{data}' has no target column '{model.target}' to evaluate "
                             "against; use `jaxmlp predict` for unlabelled rows.")  # fmt: skip
        kept = df[df[model.target].notna()]
        skipped = (
            [
                f"left out {len(df) - len(kept)} of the {len(df)} rows: no "
                f"'{model.target}' value to score against"
            ]
            if len(kept) < len(df)
            else []
        )
        return kept, skipped + model.check_columns(kept)
    return df, model.check_columns(df)


def predict_table(model: TableModel, data: str | Path, proba: bool = False) -> tuple[Any, list]:
    """Predictions for the rows of a table: a DataFrame with ``predicted_<target>`` (and
    with ``proba`` one ``proba_<class>`` column per class), and notes about the columns."""

    if model.regression and proba:
        raise TableError("--proba gives class probabilities; this model predicts a number "
                         f"('{model.target}'). Drop --proba.")  # fmt: skip
    df, notes = _rows(model, data)
    # the rows' ids (columns the model leaves out that look like ids) lead the output
    out = df[row_ids(df, model.schema.features, model.target)].reset_index(drop=True)
    if model.regression:
        out[f"predicted_{model.target}"] = model.predict(df)
        return out, notes
    p, classes = model.predict_proba(df), np.asarray(model.classes)
    out[f"predicted_{model.target}"] = classes[np.argmax(p, axis=1)]
    for i, c in enumerate(classes if proba else ()):
        out[f"proba_{c}"] = p[:, i]
    return out, notes


def evaluate_table(model: TableModel, data: str | Path) -> dict[str, Any]:
    """:func:`metrics` of ``model`` on a labelled table (rows without a target are left
    out), with what the report needs: ``frame``, ``y``, ``proba``, ``data``, ``notes``."""
    df, notes = _rows(model, data, labelled=True)
    if model.regression:
        y, pred, result = evaluate_regression(model, df)
        return {"metrics": result, "frame": df, "y": y, "proba": pred, "notes": notes,
                "data": data_summary(df, model.target, model.schema, True)}  # fmt: skip
    y = model.encode(df[model.target].to_numpy())
    p = model.predict_proba(df)
    return {"metrics": metrics(y, p, np.asarray(model.classes)), "frame": df, "y": y, "proba": p,
            "data": data_summary(df, model.target, model.schema), "notes": notes}  # fmt: skip
