"""Compiled programs kept across processes: JAX's persistent compilation cache, and the
lowered training programs themselves (serialised StableHLO, ``jax.export``).

JAX's compilation cache skips XLA compilation in a new process, but every program is
still traced and lowered to MLIR first (~0.1 s for a training program), which dominates
short fits in fresh processes (a CLI call, scikit-learn's check suite). With the cache
enabled (:func:`enable_compilation_cache`), :func:`run_chunk` also stores each training program
it lowers, keyed on everything that defines it: the program's description (network,
optimizer factory and settings, see :func:`describe`), the argument shapes and dtypes, the
versions of JAX, jaxlib, optax and NumPy and a hash of the engine's source. A later
process deserialises it instead of tracing and lowering. Programs with a user's own
function (a callable activation, an optax optimizer object) are not stored: they have no
stable description.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jax

from jaxmlp.core.durable import replace_file

__all__ = [
    "DEFAULT_CACHE",
    "describe",
    "enable_compilation_cache",
    "release_if_crowded",
    "run_chunk",
    "run_stored",
    "set_folder",
]

DEFAULT_CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "jaxmlp" / "jax"
_SPEC = "_jaxmlp_spec"  # the attribute that holds a function's stable description
_memo: dict[str, Callable] = {}
_folder: list[Path | None] = [None]


def enable_compilation_cache(folder: str | os.PathLike | None = None) -> Path | None:
    """Turn on JAX's persistent compilation cache, so a new process skips compilation.

    Parameters
    ----------
    folder : path, optional
        Where to keep it. Default: ``$JAXMLP_CACHE_DIR`` if set (an empty value disables
        the cache), else ``~/.cache/jaxmlp/jax`` (``$XDG_CACHE_HOME`` respected).

    Returns
    -------
    Path or None
        The folder in use, or None if disabled or not writable (never an error).

    Notes
    -----
    Training programs are also kept lowered (serialised StableHLO), so a new process
    skips tracing and lowering as well. JAX caches only programs that took longer to
    compile than ``jax_persistent_cache_min_compile_time_secs`` (1 s by default), which
    few of ours do, so that threshold (and the minimum entry size) is lowered to 0.
    """
    if folder is None:
        folder = os.environ.get("JAXMLP_CACHE_DIR", str(DEFAULT_CACHE))
    if not str(folder):
        return None
    try:
        Path(folder).mkdir(parents=True, exist_ok=True)
    except OSError:
        return None  # a cache we cannot write is no reason to fail
    jax.config.update("jax_compilation_cache_dir", str(folder))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    set_folder(Path(folder))  # lowered training programs too
    return Path(folder)


def set_folder(folder: Path | None) -> None:
    """Where serialised programs go (a sub-folder of the compilation cache), or None."""
    _folder[0] = None if folder is None else Path(folder) / "jaxmlp-exported"
    _memo.clear()


def describe(fn: Callable, spec: tuple) -> Callable:
    """Give ``fn`` (a network's ``apply``, an optimizer factory) a stable description:
    a tuple of plain values that, with the source of the module defining ``fn``, says
    everything about what it computes. Returns ``fn``."""
    setattr(fn, _SPEC, spec)
    return fn


def _spec(fn: Any) -> Any:
    return getattr(fn, _SPEC, None)


# the libraries whose code ends up in a training program: a new version of any of them
# may lower the same description to another program
SHAPING = ("jax", "jaxlib", "optax", "numpy")


@functools.cache
def _versions() -> tuple[tuple[str, str], ...]:
    """``(name, version)`` of every library in :data:`SHAPING` (issue #21: the key had
    JAX's version only, so a new optax served programs lowered by the old one)."""
    from importlib.metadata import PackageNotFoundError, version

    out = []
    for name in SHAPING:
        try:
            out.append((name, version(name)))
        except PackageNotFoundError:
            out.append((name, "absent"))
    return tuple(out)


@functools.cache
def _source_hash(modules: tuple[str, ...]) -> str:
    """Hash of the engine's sources (every module of ``jaxmlp.core``) and of ``modules``."""
    here = Path(__file__).parent
    files = sorted(here.glob("*.py"))
    for name in modules:
        file = getattr(sys.modules.get(name), "__file__", None)
        if name.startswith("jaxmlp.") and file:
            files.append(Path(file))
    h = hashlib.sha256()
    for f in files:
        h.update(f.read_bytes())
    return h.hexdigest()[:16]


def _program_spec(program: Any) -> tuple | None:
    apply, optimizer = _spec(program.apply), _spec(program.optimizer)
    if apply is None or optimizer is None:
        return None
    fields = tuple((f.name, getattr(program, f.name)) for f in dataclasses.fields(program)
                   if f.name not in ("apply", "optimizer"))  # fmt: skip
    sources = _source_hash((program.apply.__module__, program.optimizer.__module__))
    return (apply, optimizer, fields, sources)


@functools.partial(jax.jit, static_argnums=(0, 1))
def _run_chunk(fn: Callable, program: Any, *args: Any) -> Any:
    return fn(program, *args)


def run_chunk(fn: Callable, program: Any, hyper: Any, state: Any, data: Any, evals: Any,
              last_epoch: Any) -> tuple[Any, Any, Any, Any]:  # fmt: skip
    """``fn(program, hyper, state, data, evals, last_epoch) -> (state, n_run, losses,
    metrics)`` -- a chunk of training epochs -- compiled with ``program`` static; through a
    stored lowered program where the cache is on and ``program`` has a stable
    description."""
    args = (hyper, state, data, evals, last_epoch)
    return run_stored(fn, program, (), args, lambda: _run_chunk(fn, program, *args))


def run_stored(fn: Callable, program: Any, static: tuple, args: tuple,
               otherwise: Callable[[], Any]) -> tuple[Any, Any, Any, Any]:  # fmt: skip
    """``fn(program, *static, *args)``, a chunk of training epochs returning ``(state,
    n_run, losses, metrics)`` with ``args[1]`` the state, through its stored lowered
    program (``static``: plain values such as a block size, part of the key), or
    ``otherwise()`` where programs are not stored (no cache, no stable description of
    ``program``, a data-parallel mesh)."""
    folder, spec = _folder[0], _program_spec(program)
    if folder is None or spec is None or getattr(program, "mesh", None) is not None:
        return otherwise()
    leaves, treedef = jax.tree_util.tree_flatten(args)
    avals = tuple(str(jax.typeof(x)) for x in leaves)
    key_text = repr((fn.__module__, fn.__qualname__, spec, static, str(treedef), avals,
                     _versions(), jax.default_backend(), len(jax.local_devices()),
                     jax.config.read("jax_enable_x64")))  # fmt: skip
    key = hashlib.sha256(key_text.encode()).hexdigest()
    stored = _memo.get(key)
    if stored is None:
        body = functools.partial(fn, program, *static) if static else functools.partial(
            fn, program)  # fmt: skip
        stored = _load_or_export(folder / f"{key}.bin", body, treedef, leaves)
        _memo[key] = stored
    out = stored(*leaves)
    out_tree = jax.tree_util.tree_structure((args[1], 0, 0, 0))
    return jax.tree_util.tree_unflatten(out_tree, list(out))


def _load_or_export(path: Path, fn: Callable, treedef, leaves) -> Callable:
    from jax import export

    exported = None
    if path.exists():
        try:
            exported = export.deserialize(bytearray(path.read_bytes()))
        except Exception:  # a damaged or foreign file: export afresh
            path.unlink(missing_ok=True)
    if exported is None:

        def flat(*xs):
            result = fn(*jax.tree_util.tree_unflatten(treedef, xs))
            return tuple(jax.tree_util.tree_leaves(result))

        exported = export.export(jax.jit(flat), platforms=[jax.default_backend()])(*leaves)
        try:  # written whole or not at all: a reader never sees half a program
            path.parent.mkdir(parents=True, exist_ok=True)
            replace_file(path, exported.serialize())
        except OSError:  # a cache we cannot write is no reason to fail
            pass
    return _callable(exported)


def _callable(exported: Any) -> Callable:
    """A stored program as a jitted function. One lowered for several devices (models
    spread over them) takes its inputs on as many local devices: an input already there
    (the state a previous chunk returned, spread over them) as it is, any other
    replicated there first."""
    call = jax.jit(exported.call)
    if exported.nr_devices == 1:
        return call
    import numpy as np
    from jax.sharding import Mesh, NamedSharding
    from jax.sharding import PartitionSpec as P

    mesh = Mesh(np.array(jax.local_devices()[: exported.nr_devices]), ("models",))
    everywhere = NamedSharding(mesh, P())
    devices = set(mesh.devices.flat)

    def placed(*xs: Any) -> Any:
        return call(*(x if isinstance(x, jax.Array) and x.sharding.device_set == devices
                      else jax.device_put(x, everywhere) for x in xs))  # fmt: skip

    return placed


# share of the kernel's limit on memory maps per process past which compiled programs are
# released (each live XLA:CPU executable holds tens of maps; see release_if_crowded)
CROWDED = 0.5


@functools.cache
def _max_map_count() -> int | None:
    try:
        return int(Path("/proc/sys/vm/max_map_count").read_text())
    except (OSError, ValueError):  # not Linux: no such limit to watch
        return None


def release_if_crowded(limit: int | None = None) -> bool:
    """Release every compiled program this process holds (``jax.clear_caches``) when its
    memory maps pass ``limit`` (default: :data:`CROWDED` of the kernel's
    ``vm.max_map_count``, 65,530 on most Linux systems). Returns whether it did.

    Each live XLA:CPU executable holds memory maps (a small fit's programs ~200), and JAX
    keeps every program it compiled: a long-lived process that fits a few hundred models
    of distinct shapes -- a notebook, a server, a test worker -- reaches the limit, and
    XLA then crashes (a segmentation fault in compilation or serialisation) where it
    cannot map. Released programs compile again when used (from the persistent cache
    where it is on). Called before every training run (:func:`jaxmlp.core.loop.drive`).
    """
    if limit is None:
        most = _max_map_count()
        if most is None:
            return False
        limit = int(most * CROWDED)
    try:
        with open("/proc/self/maps", "rb") as f:
            maps = sum(1 for _ in f)
    except OSError:
        return False
    if maps <= limit:
        return False
    _memo.clear()
    jax.clear_caches()
    return True
