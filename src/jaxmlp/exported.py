"""Training programs kept across processes as serialised StableHLO (``jax.export``).

JAX's persistent compilation cache skips XLA compilation in a new process, but every
program is still traced and lowered to MLIR first (~0.1 s for a training program), which
dominates short fits in fresh processes (a CLI call, scikit-learn's check suite). With
the compilation cache enabled (:func:`jaxmlp.enable_compilation_cache`), the engine also
stores each training program it lowers, keyed on everything that defines it: the
program's description (network, optimizer factory and settings), the argument shapes and
dtypes, the JAX version and a hash of the engine's source. A later process deserialises
it instead of tracing and lowering. Programs with a user's own function (a callable
activation, an optax optimizer object) are not stored: they have no stable description.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jax

__all__ = ["run_chunk"]

_SOURCES = ("engine.py", "batching.py", "losses.py", "nn.py", "solvers.py", "exported.py")
_memo: dict[str, Callable] = {}
_folder: list[Path | None] = [None]


def set_folder(folder: Path | None) -> None:
    """Where serialised programs go (a sub-folder of the compilation cache), or None."""
    _folder[0] = None if folder is None else Path(folder) / "jaxmlp-exported"


@functools.cache
def _source_hash() -> str:
    here = Path(__file__).parent
    h = hashlib.sha256()
    for name in _SOURCES:
        h.update((here / name).read_bytes())
    return h.hexdigest()[:16]


def _spec(obj) -> Any:
    return getattr(obj, "_jaxmlp_spec", None)


def _program_spec(program) -> tuple | None:
    apply, optimizer = _spec(program.apply), _spec(program.optimizer)
    if apply is None or optimizer is None:
        return None
    fields = tuple((f.name, getattr(program, f.name)) for f in dataclasses.fields(program)
                   if f.name not in ("apply", "optimizer"))  # fmt: skip
    return (apply, optimizer, fields)


def run_chunk(program, hyper, state, data, evals, last):
    """:func:`jaxmlp.engine._run_chunk`, through a stored program where possible."""
    from jaxmlp.engine import _chunk, _run_chunk

    folder, spec = _folder[0], _program_spec(program)
    if folder is None or spec is None:
        return _run_chunk(program, hyper, state, data, evals, last)
    args = (hyper, state, data, evals, last)
    leaves, treedef = jax.tree_util.tree_flatten(args)
    avals = tuple(str(jax.typeof(x)) for x in leaves)
    key_text = repr((spec, str(treedef), avals, jax.__version__, _source_hash(),
                     jax.default_backend(), jax.config.jax_enable_x64))  # fmt: skip
    key = hashlib.sha256(key_text.encode()).hexdigest()
    fn = _memo.get(key)
    if fn is None:
        fn = _load_or_export(folder / f"{key}.bin", program, treedef, leaves, _chunk)
        _memo[key] = fn
    out = fn(*leaves)
    out_tree = jax.tree_util.tree_structure((state, 0, 0, 0))
    return jax.tree_util.tree_unflatten(out_tree, list(out))


def _load_or_export(path: Path, program, treedef, leaves, chunk) -> Callable:
    from jax import export

    if path.exists():
        try:
            return jax.jit(export.deserialize(bytearray(path.read_bytes())).call)
        except Exception:  # a damaged or foreign file: export afresh
            path.unlink(missing_ok=True)

    def flat(*xs):
        result = chunk(program, *jax.tree_util.tree_unflatten(treedef, xs))
        return tuple(jax.tree_util.tree_leaves(result))

    exported = export.export(jax.jit(flat), platforms=[jax.default_backend()])(*leaves)
    try:
        from jaxmlp.files import atomic_write

        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, exported.serialize())
    except (OSError, ImportError):  # a cache we cannot write is no reason to fail
        pass
    return jax.jit(exported.call)
