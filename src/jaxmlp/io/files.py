"""Writing files safely: whole or not at all."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

from jaxmlp.core.durable import replace_file

__all__ = ["atomic_write", "check_can_write_dir", "ensure_writable_dir", "write_files"]


def atomic_write(path: str | os.PathLike, data: bytes | str) -> Path:
    """Write ``data`` to ``path`` through a temporary file, ``fsync`` and ``os.replace``
    (:func:`jaxmlp.core.durable.replace_file`).

    Whenever the process dies, a reader sees either the old file or the complete new one,
    never a half-written one; what a crash left behind is removed by the next write.
    """
    path = Path(path)
    replace_file(path, data.encode("utf-8") if isinstance(data, str) else data)
    return path


def write_files(folder: str | os.PathLike, names: Mapping[str, str],
                contents: Mapping[str, bytes | str]) -> dict[str, Path]:  # fmt: skip
    """Write an output folder's files, each with :func:`atomic_write`, in the order of
    ``contents`` (so the last one's presence means all were written).

    Parameters
    ----------
    folder : path
        An existing, writable folder.
    names : mapping of str to str
        Every file the folder may hold, by name -> file name. A file whose name is not in
        ``contents`` is removed (no stale figure from an earlier run).
    contents : mapping of str to bytes or str
        What to write, by name.

    Returns
    -------
    dict of str to Path
        The files written, by name.
    """
    folder = Path(folder)
    for name, file in names.items():
        if name not in contents:
            (folder / file).unlink(missing_ok=True)
    return {name: atomic_write(folder / names[name], data) for name, data in contents.items()}


def ensure_writable_dir(path: str | os.PathLike) -> Path:
    """Create ``path`` (and parents) if needed and check that files can be written in it.

    Raises
    ------
    ValueError
        Naming the folder and the reason, if it cannot be created or written to.
    """
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".jaxmlp-write-test-"):
            pass
    except OSError as e:
        reason = e.strerror or str(e)
        raise ValueError(
            f"cannot write to output folder '{path}': {reason}. "
            "Choose a folder you can write to, e.g. --out ./out/demo."
        ) from None
    return path


def check_can_write_dir(path: str | os.PathLike) -> Path:
    """Check, without creating anything, that ``path`` is or can become a writable folder.

    Raises
    ------
    ValueError
        Naming the folder and the reason.
    """
    path = Path(path)
    probe = path
    while not probe.exists():  # the nearest existing ancestor decides
        if probe.parent == probe:
            break
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        reason = "it is a file" if probe == path else f"'{probe}' is a file, not a folder"
    elif not os.access(probe, os.W_OK | os.X_OK):
        reason = f"permission denied on '{probe}'"
    else:
        return path
    raise ValueError(
        f"cannot write to output folder '{path}': {reason}. "
        "Choose a folder you can write to, e.g. --out ./out/demo."
    )
