"""JAX's persistent compilation cache, in a per-user folder."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["DEFAULT_CACHE", "enable_compilation_cache"]

DEFAULT_CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "jaxmlp" / "jax"


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
    Training programs are also kept lowered (serialised StableHLO, see
    :mod:`jaxmlp.exported`), so a new process skips tracing and lowering as well.
    JAX caches only programs that took longer to compile than
    ``jax_persistent_cache_min_compile_time_secs`` (1 s by default), which few of ours do,
    so that threshold (and the minimum entry size) is lowered to 0.
    """
    import jax

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
    from jaxmlp import exported

    exported.set_folder(Path(folder))  # lowered training programs too
    return Path(folder)
