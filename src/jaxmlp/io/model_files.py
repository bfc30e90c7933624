"""Safe, versioned model folders: :func:`save` and :func:`load`.

A model folder holds

- ``model.json``: format name and version, jaxmlp version, the estimator's
  hyperparameters and fitted attributes, classes, feature names and kinds, category
  levels, training metrics, and the name, shape and dtype of every array plus the
  SHA-256 of the array file;
- ``arrays.safetensors``: the weights and the preprocessing arrays (medians, means,
  scales), in the safetensors format -- a JSON header and raw little-endian numbers.

Loading executes nothing from the files: it reads JSON and raw arrays, checks the format
version (a newer one is refused), the checksum, and every array's shape against the
metadata before building the model. Saving writes a temporary folder next to the target,
fsyncs it, and swaps it into place in one atomic step (:mod:`jaxmlp.core.durable`): whenever
the process dies, the path names the complete old model or the complete new one, and the
next save removes what the crash left. An existing model is replaced only with
``overwrite=True``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from jaxmlp.core.durable import (
    clean_stale,
    is_temporary,
    recover,
    replace_folder,
    temporary_sibling,
)
from jaxmlp.io.records import (
    ModelFileError,
    RecordError,
    build_any,
    build_estimator,
    estimator_record,
    label_array,
    model_record,
)
from jaxmlp.io.table_records import build_preprocessor, probe_frame, table_params, table_record
from jaxmlp.sklearn.base import BaseMLP
from jaxmlp.sklearn.table_estimators import fitted_table_model
from jaxmlp.sklearn.table_model import TableModel

__all__ = ["FORMAT", "FORMAT_VERSION", "ModelFileError", "load", "save"]

FORMAT = "jaxmlp-model"
# 1: MLPClassifier and table classifiers. 2: MLPRegressor, table regressors, date and
# target-encoded columns. 3: ensembles of members (table models' default), robust scaling
# of numeric columns (older files load unchanged)
FORMAT_VERSION = 3
META = "model.json"
ARRAYS = "arrays.safetensors"
REPORT = "report.html"
META_LIMIT = 16 << 20  # bytes: the largest model.json read (a real one is a few KiB)


def _digest(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _plain_file(folder: Path, name: str, limit: int | None) -> Path:
    """``folder / name``, a regular file (not a link) of at most ``limit`` bytes."""
    file = folder / name
    if file.is_symlink():
        raise _fail(folder, f"{name} is a link (to '{os.readlink(file)}'); a model folder "
                            "holds plain files only")  # fmt: skip
    if not file.exists():
        raise _fail(folder, f"it has no {name}" if name == META else f"{name} is missing")
    if not file.is_file():
        raise _fail(folder, f"{name} is not a plain file")
    if limit is not None and file.stat().st_size > limit:
        raise _fail(folder, f"{name} is {file.stat().st_size:,} bytes, more than any model "
                            f"record ({limit:,})")  # fmt: skip
    return file


def _declared_bytes(folder: Path, specs: Any) -> int:
    """Bytes the metadata says the arrays take (checked before reading them)."""
    if not isinstance(specs, dict):
        raise _fail(folder, "its arrays are not described")
    total = 0
    for name, spec in specs.items():
        shape = spec.get("shape") if isinstance(spec, dict) else None
        try:
            item = np.dtype(spec["dtype"]).itemsize
        except (TypeError, KeyError, ValueError):
            raise _fail(folder, f"array '{name}' has no valid dtype") from None
        if not isinstance(shape, list) or not all(isinstance(d, int) and d >= 0 for d in shape):
            raise _fail(folder, f"array '{name}' has no valid shape")
        total += item * int(np.prod(shape, dtype=object))
    return total


def save(
    model: BaseMLP | TableModel,
    path: str | os.PathLike,
    *,
    overwrite: bool = False,
    report: str | None = None,
) -> Path:
    """Save a fitted :class:`~jaxmlp.MLPClassifier`, :class:`~jaxmlp.MLPRegressor` or
    :class:`~jaxmlp.TableModel`.

    Parameters
    ----------
    model : MLPClassifier, MLPRegressor or TableModel
    path : path-like
        The model folder to create.
    overwrite : bool
        Replace an existing model folder (otherwise that is an error).
    report : str, optional
        An HTML report to keep in the folder as ``report.html`` (``jaxmlp train`` passes
        the training report).

    Returns
    -------
    Path
        The model folder.

    Raises
    ------
    ModelFileError
        The folder exists (without ``overwrite``), is not a model folder, or the model
        holds code that cannot be saved as data (a callable activation, an optax
        optimizer).
    """
    from safetensors.numpy import save as safetensors_bytes

    from jaxmlp import __version__

    path = Path(path).absolute()
    if is_temporary(path):
        raise ModelFileError(f"'{path}' is named like a temporary folder; choose another name.")
    clean_stale(path)  # what a save killed mid-way left here, and a half-done replacement
    if path.exists():
        if not overwrite:
            raise ModelFileError(
                f"'{path}' already exists; choose another folder, or pass --force "
                "(overwrite=True) to replace the model in it."
            )
        if not path.is_dir() or (any(path.iterdir()) and not (path / META).exists()):
            raise ModelFileError(
                f"'{path}' exists and is not a jaxmlp model folder; refusing to replace it."
            )
    arrays: dict[str, np.ndarray] = {}
    meta: dict[str, Any]
    if isinstance(model, TableModel):
        meta = {"kind": "TableModel", "table": table_record(model, arrays),
                "estimator": model_record(model.estimator, arrays)}  # fmt: skip
    elif isinstance(model, BaseMLP):
        meta = {"kind": type(model).__name__, "estimator": estimator_record(model, arrays)}
    else:
        raise ModelFileError(
            "save() takes a fitted jaxmlp MLPClassifier, MLPRegressor or TableModel, got "
            f"{type(model).__name__}."
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    blob = safetensors_bytes({k: np.ascontiguousarray(v) for k, v in arrays.items()})
    specs = {k: {"shape": list(a.shape), "dtype": a.dtype.str} for k, a in arrays.items()}
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "jaxmlp_version": __version__,
        **meta,
        "arrays": specs,
        "arrays_sha256": hashlib.sha256(blob).hexdigest(),
    }
    files = {ARRAYS: blob, META: (json.dumps(meta, indent=2) + "\n").encode()}
    if report is not None:
        files[REPORT] = report.encode()
    tmp = temporary_sibling(path, "saving")
    tmp.mkdir()
    try:
        for name, data in files.items():  # each on disk before the folder becomes visible
            _write_synced(tmp / name, data)
        replace_folder(tmp, path)  # the path names the old or the new model at every instant
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return path


def _write_synced(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # umask applies
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


# ----------------------------------------------------------------------------- loading


def _fail(path: Path, what: str) -> ModelFileError:
    return ModelFileError(
        f"'{path}' is not a usable jaxmlp model: {what}. Re-create it with "
        "`jaxmlp train` or jaxmlp.save()."
    )


def _read_meta(path: Path) -> dict:
    if is_temporary(path):
        raise ModelFileError(
            f"'{path}' is a temporary folder of a save in progress or interrupted, not a "
            "model; load the model folder it was being saved to."
        )
    recover(path)  # a replacement interrupted between its two renames (non-Linux fallback)
    if not path.exists():
        raise ModelFileError(f"Model folder '{path}' does not exist. Check the path.")
    if not path.is_dir():
        raise ModelFileError(f"'{path}' is a file; a jaxmlp model is a folder.")
    meta_file = _plain_file(path, META, META_LIMIT)
    try:
        meta = json.loads(meta_file.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise _fail(path, f"{META} is not valid JSON ({e})") from None
    except RecursionError:
        raise _fail(path, f"{META} nests deeper than any model record") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise _fail(path, f"{META} does not describe a '{FORMAT}'")
    version = meta.get("format_version")
    if not isinstance(version, int):
        raise _fail(path, "its format version is missing")
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"'{path}' was saved in model format version {version} by jaxmlp "
            f"{meta.get('jaxmlp_version', '?')}; this jaxmlp reads versions up to "
            f"{FORMAT_VERSION}. Upgrade jaxmlp (pip install -U jaxmlp) to load it."
        )
    return meta


def _read_arrays(path: Path, meta: dict) -> dict[str, np.ndarray]:
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    file = _plain_file(path, ARRAYS, None)
    if _digest(file) != meta.get("arrays_sha256"):
        raise _fail(path, f"{ARRAYS} does not match its checksum (truncated or modified)")
    declared = _declared_bytes(path, meta.get("arrays"))
    if declared > file.stat().st_size:  # refused before anything is allocated
        raise _fail(path, f"{META} declares {declared:,} bytes of arrays but {ARRAYS} holds "
                          f"{file.stat().st_size:,}")  # fmt: skip
    try:
        arrays = load_file(str(file))
    except (SafetensorError, OSError, ValueError) as e:
        raise _fail(path, f"{ARRAYS} is not a safetensors file ({e})") from None
    expected = meta.get("arrays")
    if not isinstance(expected, dict) or set(expected) != set(arrays):
        raise _fail(path, "its arrays do not match the metadata")
    for name, spec in expected.items():
        a = arrays[name]
        if list(a.shape) != spec.get("shape") or a.dtype.str != spec.get("dtype"):
            raise _fail(path, f"array '{name}' has shape {list(a.shape)} {a.dtype}, the "
                              f"metadata says {spec.get('shape')} {spec.get('dtype')}")  # fmt: skip
    return arrays


def load(path: str | os.PathLike) -> BaseMLP | TableModel:
    """Load a model folder written by :func:`save` (or ``jaxmlp train``).

    Returns
    -------
    MLPClassifier, MLPRegressor or TableModel

    Raises
    ------
    ModelFileError
        Missing, truncated or modified files, arrays that do not fit the metadata, or a
        newer format version.
    """
    path = Path(path)
    meta = _read_meta(path)
    arrays = _read_arrays(path, meta)
    kind = meta.get("kind")
    try:
        if kind in ("MLPClassifier", "MLPRegressor"):
            return build_estimator(meta["estimator"], arrays)
        if kind == "TableModel":
            rec = meta["table"]
            est = build_any(meta["estimator"], arrays)
            schema, pre = build_preprocessor(rec, arrays)
            width = pre.transform(probe_frame(schema, rec)).shape[1]
            if width != est.n_features_in_:
                raise RecordError(f"the preprocessing makes {width} features, the network "
                                  f"takes {est.n_features_in_}")  # fmt: skip
            task = str(rec.get("task", "classification"))
            regressor = meta["estimator"].get("class") in ("MLPRegressor", "MLPEnsembleRegressor")
            if (task == "regression") != regressor:
                raise RecordError(f"its task {task!r} does not fit its estimator")
            classes = None if rec["classes"] is None else label_array(rec["classes"])
            return fitted_table_model(est, pre, schema, str(rec["target"]), classes,
                                      info=dict(rec.get("info") or {}), task=task,
                                      target_mean=float(rec.get("target_mean", 0.0)),
                                      target_scale=float(rec.get("target_scale", 1.0)),
                                      params=table_params(rec))  # fmt: skip
    except KeyError as e:
        raise _fail(path, f"{META} lacks {e}") from None
    except RecordError as e:
        raise _fail(path, str(e)) from None
    except (TypeError, ValueError, AttributeError) as e:  # a field of the wrong type
        raise _fail(path, f"{META} has a malformed field ({type(e).__name__}: {e})") from None
    raise _fail(path, f"unknown model kind {kind!r}")
