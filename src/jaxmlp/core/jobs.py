"""Prepared fits (:class:`Job`) and running many of them at once (:func:`run_jobs`).

An estimator validates its input and sets up a fit on the host -- initial weights, the
compiled program's key, hyperparameters, padded rows -- as a :class:`Job`. A single fit
runs its job with :func:`jaxmlp.core.loop.train`; :func:`run_jobs` groups jobs that share a
program (one architecture, solver and row bucket) and trains each group as one vmapped
program (:func:`jaxmlp.core.many.train_many`), in blocks sized to the memory at hand. Each job
then stores its own result, exactly as if it had been trained alone.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable, Sequence
from typing import Any

import jax
import joblib
import numpy as np

from jaxmlp.core.blocks import digest, pack, pickled_program, train_block, unpack
from jaxmlp.core.devices import available_cores
from jaxmlp.core.loop import RunResult
from jaxmlp.core.program import (
    DivergenceError,
    HostData,
    Hyper,
    Program,
    State,
    init_state,
)

__all__ = [
    "Job",
    "MemoryBudgetError",
    "estimate_bytes",
    "memory_budget",
    "run_jobs",
]


class MemoryBudgetError(MemoryError):
    """A group of models cannot be trained in the memory at hand."""


@dataclasses.dataclass
class Job:
    """One prepared fit.

    Attributes
    ----------
    program : Program
    hyper : Hyper
        Plain numbers.
    state : State or None
        Starting state (single model, no model axis); None: a fresh start from ``params``
        and ``seed``, initialised together with the other jobs of its block (one vmapped
        call instead of one per job).
    data : HostData
        Training rows, padded to their bucket.
    evals : tuple of HostData
        Evaluation sets (the early-stopping validation set).
    max_epochs : int
    dtype : numpy dtype
        Training precision (float64 runs under ``jax.enable_x64``).
    hint : str
        Appended to the :class:`~jaxmlp.core.program.DivergenceError` message.
    finish : callable
        ``finish(result)`` stores a :class:`~jaxmlp.core.loop.RunResult` in the estimator.
    params : pytree, optional
        Starting parameters (with ``state=None``; host arrays).
    seed : int
        Shuffling and dropout seed (with ``state=None``).
    host : callable, optional
        A fit the engine does not run as a compiled loop (scikit-learn's L-BFGS, driven by
        scipy): ``host()`` trains and stores the result itself; such jobs run one by one.
    """

    program: Program
    hyper: Hyper
    state: State | None
    data: HostData
    evals: tuple[HostData, ...]
    max_epochs: int
    dtype: np.dtype
    hint: str
    finish: Callable[[RunResult], None]
    host: Callable[[], None] | None = None
    params: Any = None
    seed: int = 0

    def start(self) -> State:
        """The starting state (``state``, or a fresh one from ``params`` and ``seed``)."""
        if self.state is not None:
            return self.state
        return init_state(self.program, self.hyper, self.params, self.seed)

    def start_params(self) -> Any:
        return self.params if self.state is None else self.state.params

    def device_data(self):
        """``(data, evals)`` as device arrays."""
        return self.data.device(), tuple(e.device() for e in self.evals)

    def group_key(self) -> tuple:
        """Jobs with equal keys can share one vmapped program (a host job shares none)."""
        if self.host is not None:
            return ("host", id(self))

        def shapes(d: HostData) -> tuple:
            return tuple((a.shape, a.dtype.str) for a in d[:3])

        params = (
            jax.tree_util.tree_structure(self.start_params()),
            tuple(np.shape(a) for a in jax.tree_util.tree_leaves(self.start_params())),
        )
        return (self.program, self.dtype.str, shapes(self.data),
                tuple(shapes(e) for e in self.evals), params)  # fmt: skip


# ------------------------------------------------------------------------------ memory


def memory_budget() -> int:
    """Bytes a group of models may use: ``$JAXMLP_MEMORY_BUDGET`` if set (bytes, or with a
    K/M/G suffix), else 80% of the accelerator's free memory, or half of the host's
    available memory on CPU."""
    text = os.environ.get("JAXMLP_MEMORY_BUDGET", "").strip().upper()
    if text:
        scale = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(text[-1], 1)
        number = text[:-1] if text[-1] in "KMG" else text
        try:
            return int(float(number) * scale)
        except ValueError:
            raise ValueError(
                f"JAXMLP_MEMORY_BUDGET={text!r} is not a size; use bytes or a K/M/G suffix, "
                "e.g. JAXMLP_MEMORY_BUDGET=2G."
            ) from None
    try:
        stats = jax.devices()[0].memory_stats() or {}
    except Exception:  # backends without memory statistics
        stats = {}
    if "bytes_limit" in stats:
        return int(0.8 * (stats["bytes_limit"] - stats.get("bytes_in_use", 0)))
    try:
        return int(0.5 * os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES"))
    except (ValueError, OSError, AttributeError):  # not POSIX: assume 4 GiB
        return 4 << 30


def estimate_bytes(job: Job, stacked_rows: bool) -> int:
    """Working memory of one model of ``job``'s group inside the vmapped program.

    Counts parameters with gradients, updates and optimizer state, the activations of one
    step (a mini-batch, or all rows for full-batch training) forward and backward, the
    evaluation pass, and, where models train on rows of their own (``stacked_rows``), their
    copy of the rows and the per-epoch shuffled copy.
    """
    item = np.dtype(job.dtype).itemsize
    leaves = jax.tree_util.tree_leaves(job.start_params())
    n_params = sum(int(np.prod(np.shape(a))) for a in leaves)
    widths = [np.shape(a)[-1] for a in leaves if np.ndim(a) == 2]
    copies = 6 + (1 if job.program.keep_best else 0)
    N, F = job.data.X.shape
    rows = N if job.program.batch is None else job.program.batch
    activations = 4 * rows * (F + sum(widths))
    evals = sum(2 * e.X.shape[0] * (e.X.shape[1] + max(widths)) for e in job.evals)
    # a model's own copy of the rows, and the per-epoch shuffled copy (mini-batches)
    own_rows = (int(stacked_rows) + int(job.program.batch is not None)) * N * (F + 2)
    return item * (copies * n_params + activations + evals + own_rows)


# ------------------------------------------------------------------------------ running


def _run_host(job: Job) -> BaseException | None:
    assert job.host is not None
    try:
        job.host()
    except (DivergenceError, ValueError) as error:  # e.g. non-finite weights
        return error
    return None


def run_jobs(
    jobs: Sequence[Job],
    *,
    models_per_program: int | str = "auto",
    budget: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    blocks: list | None = None,
    n_jobs: int | None = None,
    epochs: Callable[[int, float], None] | None = None,
) -> list[BaseException | None]:
    """Train every job; those that share a program train side by side in one program.

    Parameters
    ----------
    jobs : sequence of Job
    models_per_program : int or 'auto'
        Most models per compiled program; 'auto' fills the memory budget. An explicit
        number whose estimated memory exceeds the budget is refused up front.
    budget : int, optional
        Bytes (default :func:`memory_budget`).
    progress : callable, optional
        ``progress(models_done, models_total)`` after each block.
    blocks : list, optional
        Receives one ``(group, job indices, seconds)`` tuple per compiled program run, where
        ``group`` numbers the distinct programs.
    n_jobs : int, optional
        Train blocks in parallel with joblib, as scikit-learn's ``n_jobs``: None is 1
        unless inside ``joblib.parallel_config(n_jobs=...)``, -1 all workers; the backend is
        joblib's (processes on this machine by default; ``parallel_config(backend="ray")``
        or ``"dask"`` for a cluster). Each group's models are then cut into at least
        ``n_jobs`` blocks that each train as one vectorised program in a worker; only
        arrays and the program travel. Results depend only on which models share a block
        (float rounding of the vectorised program), which depends on ``n_jobs`` and
        ``models_per_program`` -- never on the backend or the machines.

    epochs : callable, optional
        ``epochs(epochs_done, mean_loss)`` after each chunk of epochs of a block trained
        in this process (the models' most epochs, their latest mean training loss): a
        progress bar's hook. Not called for blocks in joblib workers.

    Returns
    -------
    list
        Per job: None, or the exception its fit ended with (a
        :class:`~jaxmlp.core.program.DivergenceError`, a ValueError); the others are unaffected.

    Raises
    ------
    MemoryBudgetError
        If one model alone, or ``models_per_program`` of them, exceed the budget.
    """
    budget = memory_budget() if budget is None else int(budget)
    # side by side, models spread over the devices themselves (train_many): a data-parallel
    # program's mesh does not apply
    jobs = [dataclasses.replace(j, program=dataclasses.replace(j.program, mesh=None))
            if j.program.mesh is not None else j for j in jobs]  # fmt: skip
    workers = effective_workers(n_jobs)
    cut = _cut(jobs, models_per_program, budget, workers)
    errors: list[BaseException | None] = [None] * len(jobs)
    done = 0

    def record(group: int, block: list[int], result: list, seconds: float) -> None:
        nonlocal done
        for i, error in zip(block, result, strict=True):
            errors[i] = error
        if blocks is not None:
            blocks.append((group, block, seconds))
        done += len(block)
        if progress is not None:
            progress(done, len(jobs))

    host_blocks = [(g, b) for g, b in cut if jobs[b[0]].host is not None]
    engine_blocks = [(g, b) for g, b in cut if jobs[b[0]].host is None]
    for group, block in host_blocks:  # L-BFGS: driven by scipy in this process
        began = time.perf_counter()
        record(group, block, [_run_host(jobs[i]) for i in block], time.perf_counter() - began)
    if workers > 1:
        outputs = _in_workers(jobs, engine_blocks, workers, n_jobs)
        for (group, block), out in zip(engine_blocks, outputs, strict=True):
            record(group, block, unpack([jobs[i] for i in block], out), out.seconds)
        return errors
    for group, block in engine_blocks:  # in this process, one block after the other
        began = time.perf_counter()
        chunk = [jobs[i] for i in block]
        out = train_block(pack(chunk, b""), in_worker=False, program=chunk[0].program,
                          callback=None if epochs is None else _epoch_hook(epochs))  # fmt: skip
        record(group, block, unpack(chunk, out), time.perf_counter() - began)
    return errors


def _epoch_hook(epochs: Callable[[int, float], None]) -> Callable[[int, Any], None]:
    """A :func:`~jaxmlp.core.many.train_many` callback that reports the epochs run and the
    models' mean latest training loss to ``epochs``."""

    def hook(done: int, result: Any) -> None:
        latest = np.asarray(result.losses)[:, -1] if np.size(result.losses) else np.array([])
        finite = latest[np.isfinite(latest)]
        epochs(done, float(finite.mean()) if finite.size else float("nan"))

    return hook


def _cut(jobs: Sequence[Job], models_per_program: int | str, budget: int,
         workers: int) -> list[tuple[int, list[int]]]:  # fmt: skip
    """``(group, job indices)`` of every block: jobs grouped by program, each group cut
    into equal blocks that fit the memory budget (and at least ``workers`` of them)."""
    groups: dict[tuple, list[int]] = {}
    for i, job in enumerate(jobs):
        groups.setdefault(job.group_key(), []).append(i)
    plans = []
    for members in groups.values():
        first = jobs[members[0]]
        distinct_rows = len({digest(jobs[i].data.X) for i in members}) > 1
        per_model = estimate_bytes(first, distinct_rows)
        fits = budget // max(per_model, 1)
        if fits < 1:
            raise MemoryBudgetError(
                f"One model needs about {per_model / 2**20:.0f} MiB but {budget / 2**20:.0f} "
                "MiB are available. Use a smaller batch_size (full-batch training holds every "
                "row's activations) or fewer / narrower hidden layers."
            )
        if models_per_program == "auto":
            size = fits
        else:
            size = int(models_per_program)
            if size * per_model > budget:
                raise MemoryBudgetError(
                    f"{size} models per program need about {size * per_model / 2**20:.0f} "
                    f"MiB ({per_model / 2**20:.1f} MiB each) but {budget / 2**20:.0f} MiB "
                    f"are available. Use models_per_program={fits} or fewer (models are then "
                    "trained in several programs, one after the other)."
                )
        plans.append((members, max(1, size)))
    cut = []  # (group, job indices) per block
    for group, (members, size) in enumerate(plans):
        if workers > 1 and jobs[members[0]].host is None:
            size = min(size, -(-len(members) // workers))
        n_blocks = -(-len(members) // size)
        cut += [(group, [int(i) for i in part])
                for part in np.array_split(np.asarray(members), n_blocks)]  # fmt: skip
    return cut


def _in_workers(jobs: Sequence[Job], engine_blocks: list, workers: int,
                n_jobs: int | None) -> Any:  # fmt: skip
    """The blocks' :class:`~jaxmlp.core.blocks.BlockOutput`, trained by joblib's workers
    (as they come, where the backend can stream results; Ray's cannot)."""
    cache = jax.config.jax_compilation_cache_dir or None  # type: ignore[attr-defined]
    programs: dict[int, bytes] = {}
    packed = []
    for group, block in engine_blocks:
        if group not in programs:
            programs[group] = pickled_program(jobs[block[0]].program)
        packed.append(pack([jobs[i] for i in block], programs[group],
                           local_threads(workers), cache))  # fmt: skip
    backend = joblib.parallel.get_active_backend()[0]
    streams = getattr(backend, "supports_return_generator", False)
    return joblib.Parallel(
        n_jobs=n_jobs, return_as="generator" if streams else "list", max_nbytes=None
    )(joblib.delayed(train_block)(p) for p in packed)


def effective_workers(n_jobs: int | None) -> int:
    """How many blocks joblib would run at once for ``n_jobs`` under the active backend."""
    if n_jobs is None and joblib.parallel.get_active_backend()[1] in (None, 1):
        return 1
    return max(1, int(joblib.effective_n_jobs(n_jobs)))


def local_threads(workers: int) -> int | None:
    """XLA threads per worker: this machine's cores shared out when joblib's workers are
    local processes (its default 'loky' backend); None (the worker's own
    ``OMP_NUM_THREADS``, which Ray and Dask set) on a cluster backend."""
    backend = type(joblib.parallel.get_active_backend()[0]).__name__
    if backend in ("LokyBackend", "MultiprocessingBackend"):
        return max(1, available_cores() // workers)
    return None
