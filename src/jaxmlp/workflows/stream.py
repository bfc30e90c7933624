"""``jaxmlp train --stream``: a table larger than memory, one row group at a time.

1. A first pass over the row groups (:mod:`jaxmlp.data.stream`) collects the classes, every
   category of every categorical column, a uniform sample of :data:`SAMPLE` training rows
   (reservoir sampling; the whole table when smaller) on which the preprocessing (median,
   mean and scale) is fitted, and the validation rows: each row with probability
   ``min(test_size, VALIDATION / rows)``, drawn from a seed per row group, so the same rows
   are left out in every epoch.
2. Training: every epoch visits every training row once -- row groups in an order
   reshuffled each epoch, rows regrouped into chunks of whole batches, shuffled within each
   chunk by the engine -- through :func:`jaxmlp.core.stream.train_chunks`; the next row
   groups are read and preprocessed by a background thread meanwhile.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from jaxmlp.core.loop import RunResult
from jaxmlp.core.program import HostData, precision
from jaxmlp.core.stream import train_chunks
from jaxmlp.data import stream
from jaxmlp.data.prepare import PreparedTable, encode_target
from jaxmlp.data.schema import clean_features, infer_schema, make_preprocessor
from jaxmlp.data.tables import TableError
from jaxmlp.data.target import classes_only
from jaxmlp.data.toy import Split
from jaxmlp.sklearn import bridge
from jaxmlp.sklearn.classifier import checked_classifier
from jaxmlp.sklearn.table_estimators import fitted_table_model

__all__ = [
    "CHUNK_ROWS",
    "SAMPLE",
    "VALIDATION",
    "prepared_from_sample",
    "table_result",
    "train_table_stream",
    "validation_mask",
]

SAMPLE = 100_000
VALIDATION = 20_000
CHUNK_ROWS = 65_536  # rows per training chunk: the shuffle buffer (whole batches)


def validation_mask(seed: int, index: int, rows: int, p: float) -> np.ndarray:
    return np.random.default_rng([seed, index]).random(rows) < p


def _first_pass(source: stream.RowGroups, config: Any, seed: int, p: float):
    """Schema, classes, categories, a training-row sample and the validation rows."""
    import pandas as pd

    first = source.read(0)
    schema, notes = infer_schema(first, config.target, config.features, config.categorical,
                                 config.numeric, config.keep, config.datetime)  # fmt: skip
    classes_only(first[config.target].dropna(), config.target, config.task, "--stream")
    columns = [*schema.features, config.target]
    rng = np.random.default_rng(seed)
    sample = first.iloc[:0][columns]
    seen = 0
    categories: dict[str, set] = {c: set() for c in schema.categorical}
    targets: set = set()
    validation: list = []
    for i, frame in enumerate(stream.prefetch(source.read(k, columns)
                                              for k in range(len(source.pieces)))):  # fmt: skip
        if frame[config.target].isna().any():
            raise TableError(f"Target column '{config.target}' has missing values in row group "
                             f"{i}; --stream needs a target in every row.")  # fmt: skip
        targets.update(frame[config.target].unique().tolist())
        for c in schema.categorical:
            categories[c].update(frame[c].dropna().astype(str).unique().tolist())
        held_out = validation_mask(seed, i, len(frame), p)
        validation.append(frame[held_out])
        rest = frame[~held_out]
        room = SAMPLE - len(sample)
        if room > 0:
            sample = pd.concat([sample, rest.iloc[:room]], ignore_index=True)
            seen += min(room, len(rest))
            rest = rest.iloc[room:]
        if len(rest):  # reservoir sampling: row k replaces a random slot with p = SAMPLE/(k+1)
            k = seen + np.arange(len(rest))
            accept = np.flatnonzero(rng.random(len(rest)) < SAMPLE / (k + 1))
            slots = rng.integers(0, SAMPLE, len(accept))
            _, last = np.unique(slots[::-1], return_index=True)  # a slot's last replacement
            keep = len(slots) - 1 - last
            sample = pd.concat([sample.drop(index=slots[keep]), rest.iloc[accept[keep]]],
                               ignore_index=True)  # fmt: skip
            seen += len(rest)
    classes = encode_target(np.asarray(list(targets)))[0]  # as the in-memory table's
    return (schema, notes, classes, {c: sorted(v) for c, v in categories.items()},
            pd.DataFrame(sample).reset_index(drop=True), pd.concat(validation))  # fmt: skip


def prepared_from_sample(config: Any, source: stream.RowGroups, schema: Any, notes: list,
                         classes: Any, categories: dict, sample: Any,
                         val: Any) -> PreparedTable:  # fmt: skip
    """The preprocessing fitted on the sample (categories from every row), and the sample
    and validation rows through it."""
    pre = make_preprocessor(schema)
    if schema.categorical:
        known = [categories[c] for c in schema.categorical]  # from every row, not the sample
        pre.set_params(categorical__onehotencoder__categories=known)
    X_s = pre.fit_transform(clean_features(sample, schema)).astype(np.float32)
    _, y_s = encode_target(sample[config.target].to_numpy(), classes)
    X_v = pre.transform(clean_features(val, schema)).astype(np.float32)
    _, y_v = encode_target(val[config.target].to_numpy(), classes)
    meta = {
        "target": config.target,
        "features": schema.features,
        "rows": {"train": source.num_rows - len(val), "validation": len(val)},
    }
    table = PreparedTable(Split(X_s, y_s, X_v, y_v, meta),
                          pre, classes, schema, notes, (sample, val))  # fmt: skip
    return table


def table_result(config: Any, estimator: Any, table: PreparedTable, source: stream.RowGroups,
            result: RunResult, fit_time: float) -> Any:  # fmt: skip
    """The :class:`~jaxmlp.workflows.table.TableTrainResult` of a streamed fit."""
    from jaxmlp.workflows.table import TableTrainResult, data_summary, metrics

    pre, schema, classes = table.preprocessor, table.schema, table.classes
    sample, val = table.frames
    X_v, y_v = table.split.X_test, table.split.y_test
    estimator.eval_curves_ = result.metrics
    model = fitted_table_model(estimator, pre, schema, config.target, classes)
    proba = estimator.predict_proba(X_v)
    scores = {**metrics(y_v, proba, classes), "fit_time_s": fit_time}
    model.info = {"validation": {k: scores[k] for k in ("accuracy", "log_loss", "roc_auc")},
                  "rows": {"train": source.num_rows - len(val), "validation": len(val)},
                  "source": str(config.data), "streamed": True}  # fmt: skip
    summary = data_summary(sample, config.target, schema)
    summary["rows"] = source.num_rows
    summary["note"] = (
        f"columns' missing and distinct counts are of the {len(sample):,} "
        "training rows sampled in the first pass (--stream)"
    )
    converged = [] if estimator.n_iter_ < estimator.max_iter else [
        f"Maximum iterations ({estimator.max_iter}) reached and the optimization hasn't "
        "converged yet."]  # fmt: skip
    baselines = ["no baselines: scikit-learn's MLP and gradient boosting need the whole table "
                 "in memory (train without --stream, on one process, to compare)"]  # fmt: skip
    return TableTrainResult(model, table, scores, None, proba, result.metrics, summary,
                            converged + baselines)  # fmt: skip


def train_table_stream(config: Any, progress: Callable[[int, float], None] | None = None,
                       on_prepared: Callable[[Any], None] | None = None) -> Any:  # fmt: skip
    """Train a table classifier streaming ``config.data`` (Parquet file, folder of Parquet
    files, or CSV converted once); returns a
    :class:`~jaxmlp.workflows.table.TableTrainResult` (its sample rows stand in for the
    table in the report)."""
    estimator = checked_classifier(**config.params)
    if estimator.solver == "lbfgs" or estimator.early_stopping:
        raise TableError("--stream trains with mini-batches ('adam' or 'sgd') and stops on the "
                         "training loss; drop --solver lbfgs / --early-stopping.")  # fmt: skip
    path = Path(config.data)
    if path.suffix.lower() in (".csv", ".tsv", ".txt"):
        path = stream.csv_to_parquet(path, getattr(config, "convert_progress", None))
    source = stream.RowGroups(path)
    seed = int(config.params.get("random_state", 0) or 0)
    p = min(config.holdout, VALIDATION / source.num_rows)
    schema, notes, classes, categories, sample, val = _first_pass(source, config, seed, p)
    if len(sample) == 0 or len(val) == 0:
        raise TableError(f"'{config.data}' has too few rows to stream ({source.num_rows}).")
    table = prepared_from_sample(config, source, schema, notes, classes, categories, sample, val)
    pre, split = table.preprocessor, table.split
    X_s, y_s, X_v, y_v = split.X_train, split.y_train, split.X_test, split.y_test
    if on_prepared is not None:
        on_prepared(table)
    missing = sorted(set(range(len(classes))) - set(y_s.tolist()))
    if missing:
        raise TableError(f"Class(es) {', '.join(str(classes[m]) for m in missing)} of "
                         f"'{config.target}' are too rare to sample; --stream needs every "
                         "class among its sampled training rows.")  # fmt: skip
    job = bridge.fresh_job(estimator, X_s, y_s)
    F, B, dtype = job.data.X.shape[1], int(job.program.batch or 1), job.dtype

    def targets(y: np.ndarray) -> np.ndarray:  # as the estimator's plan: see its targets
        return y if job.program.loss == "softmax" else (y == 1)[:, None].astype(dtype)

    size = max(B, (CHUNK_ROWS // B) * B)
    columns = [*schema.features, config.target]

    def rows(order: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        for i in order:
            frame = source.read(int(i), columns)
            frame = frame[~validation_mask(seed, int(i), len(frame), p)]
            X = pre.transform(clean_features(frame, schema)).astype(dtype)
            y = encode_target(frame[config.target].to_numpy(), classes)[1]
            yield np.pad(X, ((0, 0), (0, F - X.shape[1]))), targets(y)

    def epoch_chunks(e: int) -> Iterator[HostData]:
        order = np.arange(len(source.pieces))
        if estimator.shuffle:
            order = np.random.default_rng([seed, e, 7]).permutation(order)
        return stream.prefetch(HostData.padded(X, y, None, size, dtype)
                               for X, y in stream.chunks(rows(order), size))  # fmt: skip

    evals_host = tuple(HostData.padded(np.pad(X, ((0, 0), (0, F - X.shape[1]))), targets(y),
                                       None, None, dtype)
                       for X, y in ((X_s, y_s), (X_v, y_v)))  # fmt: skip
    t0 = time.perf_counter()
    with precision(dtype):
        result = train_chunks(job.program, job.hyper, job.start(), epoch_chunks,
                              tuple(h.device() for h in evals_host), max_epochs=job.max_epochs,
                              callback=None if progress is None else
                              lambda done, r: progress(done, float(r.losses[-1])))  # fmt: skip
    with warnings.catch_warnings():  # said once, as a note, below
        warnings.simplefilter("ignore", ConvergenceWarning)
        job.finish(RunResult(result.state, result.losses, result.metrics[:, :0]))
    return table_result(config, estimator, table, source, result, time.perf_counter() - t0)
