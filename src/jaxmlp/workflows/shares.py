"""``jaxmlp train`` on several processes: each process reads only its own share of the rows.

Every process derives the same row roles from the file's metadata alone -- validation rows
drawn per row group from the seed (as ``--stream`` draws them), the training rows the rest,
in table order -- and takes a contiguous share of the training rows: ``S = ceil(R / P)``
rows each, so that the only padding (zero-weight rows) comes after the last real row, where
the engine expects it. It reads only the row groups its share touches (``pre_buffer=False``).
What every process must agree on -- the classes, every category, a sample of training rows
at positions all of them compute from the seed (the preprocessing is fitted on it), the
validation rows -- is exchanged once through JAX's own collectives
(:func:`jaxmlp.core.hosts.allgather_objects`). Training is the engine's one compiled loop on
global arrays whose rows are split over every process's devices; the same command on one
process gives the same model.
"""

from __future__ import annotations

import dataclasses
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from jaxmlp.core.hosts import allgather_objects
from jaxmlp.core.loop import RunResult, train
from jaxmlp.core.program import HostData, precision
from jaxmlp.core.sharding import data_mesh, global_rows
from jaxmlp.data import stream
from jaxmlp.data.prepare import encode_target
from jaxmlp.data.schema import clean_features, infer_schema
from jaxmlp.data.tables import TableError
from jaxmlp.data.target import classes_only
from jaxmlp.sklearn import bridge
from jaxmlp.sklearn.classifier import checked_classifier
from jaxmlp.workflows.stream import (
    SAMPLE,
    VALIDATION,
    prepared_from_sample,
    table_result,
    validation_mask,
)

__all__ = ["Share", "read_rows", "share_of", "train_table_shared"]


@dataclasses.dataclass(frozen=True)
class Share:
    """This process's rows: table row positions of its training rows, its validation
    rows and its part of the sample; ``size`` rows per process (padded), ``n_train`` in
    all."""

    train: np.ndarray
    validation: np.ndarray
    sample: np.ndarray
    size: int
    n_train: int


def share_of(group_rows: list[int], seed: int, test_size: float, process: int,
             processes: int, multiple: int = 1) -> Share:  # fmt: skip
    """The rows of ``process`` (of ``processes``), from the row-group sizes alone."""
    total = int(sum(group_rows))
    p = min(test_size, VALIDATION / total)
    held = np.concatenate([validation_mask(seed, g, r, p) for g, r in enumerate(group_rows)])
    train_pos, val_pos = np.flatnonzero(~held), np.flatnonzero(held)
    R = len(train_pos)
    size = -(-R // processes)
    size = -(-size // multiple) * multiple  # whole rows per local device
    lo, hi = min(process * size, R), min((process + 1) * size, R)
    ranks = np.sort(np.random.default_rng([seed, 11]).choice(R, min(SAMPLE, R), replace=False))
    v = -(-len(val_pos) // processes)
    return Share(train_pos[lo:hi], val_pos[process * v : (process + 1) * v],
                 train_pos[ranks[(ranks >= lo) & (ranks < hi)]], size, R)  # fmt: skip


def read_rows(source: stream.RowGroups, positions: np.ndarray, columns: list[str]) -> Any:
    """The table rows at ``positions`` (sorted), reading only the row groups they touch."""
    import pandas as pd

    starts = np.cumsum([0] + [p.rows for p in source.pieces])
    parts = []
    for g in np.unique(np.searchsorted(starts, positions, side="right") - 1):
        inside = positions[(positions >= starts[g]) & (positions < starts[g + 1])]
        frame = source.read(int(g), columns)
        parts.append(frame.iloc[inside - starts[g]])
    return pd.concat(parts, ignore_index=True) if parts else None


def train_table_shared(config: Any, progress: Callable[[int, float], None] | None = None,
                       on_prepared: Callable[[Any], None] | None = None) -> Any:  # fmt: skip
    """Train a table classifier with every process of ``jax.distributed`` reading its
    own rows; returns a :class:`~jaxmlp.workflows.table.TableTrainResult` (the same on
    every process)."""
    import jax

    estimator = checked_classifier(**config.params)
    if estimator.solver == "lbfgs" or estimator.early_stopping:
        raise TableError("several processes train with mini-batches ('adam' or 'sgd') and "
                         "stop on the training loss; drop --solver lbfgs / "
                         "--early-stopping.")  # fmt: skip
    path = Path(config.data)
    if path.suffix.lower() in (".csv", ".tsv", ".txt"):
        path = stream.csv_to_parquet(path)  # each process: the same file, written atomically
    source = stream.RowGroups(path)
    seed = int(config.params.get("random_state", 0) or 0)
    where = (jax.process_index(), jax.process_count(), jax.local_device_count())
    share = share_of([p.rows for p in source.pieces], seed, config.holdout, *where)
    columns = list(source.columns)
    mine = read_rows(source, share.train, columns)
    parts = allgather_objects((read_rows(source, share.sample, columns),
                               read_rows(source, share.validation, columns),
                               None if mine is None else
                               sorted(mine[config.target].unique().tolist())))  # fmt: skip
    import pandas as pd

    sample = pd.concat([s for s, _, _ in parts if s is not None], ignore_index=True)
    val = pd.concat([v for _, v, _ in parts if v is not None], ignore_index=True)
    schema, notes = infer_schema(sample, config.target, config.features, config.categorical,
                                 config.numeric, config.keep, config.datetime)  # fmt: skip
    classes_only(sample[config.target].dropna(), config.target, config.task,
                 "several processes")  # fmt: skip
    local_categories = {c: sorted(mine[c].dropna().astype(str).unique().tolist())
                        if mine is not None else [] for c in schema.categorical}  # fmt: skip
    categories = {c: sorted(set().union(*(g[c] for g in allgather_objects(local_categories))))
                  for c in schema.categorical}  # fmt: skip
    targets = [t for _, _, ts in parts if ts is not None for t in ts]
    classes = encode_target(np.asarray(targets + val[config.target].tolist()))[0]
    table = prepared_from_sample(config, source, schema, notes, classes, categories, sample, val)
    if on_prepared is not None:
        on_prepared(table)
    split = table.split
    job = bridge.fresh_job(estimator, split.X_train, split.y_train)
    F, dtype = job.data.X.shape[1], job.dtype

    def encoded(frame: Any) -> tuple[np.ndarray, np.ndarray]:
        if frame is None or not len(frame):
            return np.zeros((0, F), dtype), np.zeros((0,) if softmax else (0, 1), dtype)
        X = table.preprocessor.transform(clean_features(frame, schema)).astype(dtype)
        y = encode_target(frame[config.target].to_numpy(), classes)[1]
        return np.pad(X, ((0, 0), (0, F - X.shape[1]))), (
            y if softmax else (y == 1)[:, None].astype(dtype)
        )

    softmax = job.program.loss == "softmax"
    mesh = data_mesh(len(jax.devices()))
    program = dataclasses.replace(job.program, mesh=mesh, n_evals=2)
    local = HostData.padded(*encoded(mine), None, share.size, dtype)
    evals = tuple(HostData.padded(*encoded(f), None, None, dtype).device() for f in (sample, val))
    t0 = time.perf_counter()
    with precision(dtype):
        data = local.device() if mesh is None else global_rows(mesh, local, share.n_train)
        result = train(program, job.hyper, job.start(), data, evals, max_epochs=job.max_epochs,
                       callback=None if progress is None else
                       lambda done, r: progress(done, float(r.losses[-1])))  # fmt: skip
    with warnings.catch_warnings():  # said once, as a note
        warnings.simplefilter("ignore", ConvergenceWarning)
        job.finish(RunResult(result.state, result.losses, result.metrics[:, :0]))
    out = table_result(config, estimator, table, source, result, time.perf_counter() - t0)
    out.model.info["rows"]["this process"] = len(share.train)
    return out
