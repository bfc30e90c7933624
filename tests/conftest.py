"""Test settings: strict JAX promotion rules, a private compilation cache, shared fixtures."""

from __future__ import annotations

import os
import tempfile
import threading

# The CLI's persistent compilation cache goes to a throw-away folder, never the user's.
os.environ.setdefault("JAXMLP_CACHE_DIR", tempfile.mkdtemp(prefix="jaxmlp-test-cache-"))

import jax
import pytest

# As equinox does: implicit rank promotion and silent dtype promotion are bugs here.
jax.config.update("jax_numpy_rank_promotion", "raise")
jax.config.update("jax_numpy_dtype_promotion", "strict")


@pytest.fixture(scope="session")
def iris():
    """Iris, standardised: X of shape (150, 4), y of shape (150,)."""
    from sklearn.datasets import load_iris
    from sklearn.preprocessing import StandardScaler

    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def tree(folder) -> set[str]:
    """Every path under ``folder`` (hidden ones included), relative to it."""
    from pathlib import Path

    return {str(p.relative_to(folder)) for p in Path(folder).rglob("*")}


def quiet_fit(est, X, y, **kw):
    """``est.fit(X, y, **kw)`` without ConvergenceWarnings (short test fits)."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y, **kw)


@pytest.fixture(scope="session")
def tutorial():
    """SPEC §1's split, the tutorial's network and optimizer."""
    from jaxmlp import make_optimizer, mlp, tutorial_split

    return (
        tutorial_split(),
        mlp((64,), "swish", 2),
        make_optimizer("momentum", 0.05, momentum=0.9),
    )


class CompileCounter:
    """Counts XLA lowerings (one per compilation, cached on disk or not) by function name."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.threads: list[int] = []

    def __call__(self, event: str, duration: float, **kwargs) -> None:
        if event == "/jax/core/compile/jaxpr_to_mlir_module_duration":
            self.names.append(str(kwargs.get("fun_name")))
            self.threads.append(threading.get_ident())  # the listener runs in the compiling thread

    def clear(self) -> None:
        self.names.clear()
        self.threads.clear()

    def count(self, name: str, this_thread: bool = False) -> int:
        """Compilations of the jitted function called ``name`` (with ``this_thread``, only
        those of the calling thread: not of a worker thread an earlier test left running)."""
        me = threading.get_ident()
        return sum(n == f"jit({name})" and (not this_thread or t == me)
                   for n, t in zip(self.names, self.threads, strict=True))  # fmt: skip

    def training(self, this_thread: bool = False) -> int:
        """Training programs lowered: ``_run_chunk`` itself, or the call of its stored
        lowered form (``jaxmlp.core.compiled``, active once a compilation cache is
        enabled)."""
        return self.count("_run_chunk", this_thread) + self.count("call", this_thread)


_COUNTER = CompileCounter()
jax.monitoring.register_event_duration_secs_listener(_COUNTER)


@pytest.fixture
def compiles() -> CompileCounter:
    """A fresh compile counter for one test. A worker past a quarter of the memory-map
    limit releases its programs first, so that the engine's own release (at half,
    :func:`jaxmlp.core.compiled.release_if_crowded`) cannot recompile mid-test."""
    from jaxmlp.core import compiled

    most = compiled._max_map_count()
    if most is not None:
        compiled.release_if_crowded(limit=int(most * compiled.CROWDED / 2))
    _COUNTER.clear()
    return _COUNTER
