"""Durable replacement of files and folders: whatever instant the process dies, a path
names either the complete old content or the complete new one.

- Files: write a temporary sibling, ``fsync`` it, ``os.replace`` it over the path (atomic on
  POSIX), ``fsync`` the parent folder so that the rename itself survives a power cut.
- Folders (model folders): build the new folder as a temporary sibling, ``fsync`` its
  files and itself, then swap it with the old folder in one step with Linux's
  ``renameat2(RENAME_EXCHANGE)`` -- the path never stops naming a complete model -- and
  remove the old one, now under the temporary name. Chosen over a symlink layout (a model
  folder stays a plain folder, old folders need no migration) and over two renames with
  recovery (which has an instant where the path names nothing). Where the exchange is not
  available (not Linux, or a filesystem that refuses it), two renames are used and
  :func:`recover` puts the old folder back at the next load or save if the process died
  between them.

Temporary siblings are hidden and named ``.NAME.<kind>-<pid>-<random>``; the next write to
the same path removes those whose process is gone, and :func:`is_temporary` lets loaders
refuse them (a temporary folder is never mistaken for a model).
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import functools
import os
import re
import secrets
import shutil
import sys
from pathlib import Path

__all__ = ["clean_stale", "fsync_path", "is_temporary", "recover", "replace_file",
           "replace_folder", "temporary_sibling"]  # fmt: skip

_TEMPORARY = re.compile(r"^\.(?P<name>.+)\.(?P<kind>saving|old|tmp)-(?P<pid>\d+)-[0-9a-f]{8}$")
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def temporary_sibling(path: Path, kind: str) -> Path:
    """A fresh hidden sibling name for ``path`` (``kind``: 'saving', 'old' or 'tmp')."""
    return path.with_name(f".{path.name}.{kind}-{os.getpid()}-{secrets.token_hex(4)}")


def is_temporary(path: Path) -> bool:
    """Whether ``path`` is named like a temporary sibling of a write in progress."""
    return _TEMPORARY.match(path.name) is not None


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _stale(path: Path, kinds: tuple[str, ...]) -> list[Path]:
    """Temporary siblings of ``path`` of ``kinds`` whose writing process is gone."""
    try:
        entries = list(path.parent.iterdir())
    except OSError:
        return []
    found = []
    for entry in entries:
        m = _TEMPORARY.match(entry.name)
        if m and m["name"] == path.name and m["kind"] in kinds and not _alive(int(m["pid"])):
            found.append(entry)
    return found


def clean_stale(path: Path) -> None:
    """Remove what a crashed write to ``path`` left behind (never another live process's)."""
    recover(path)
    for entry in _stale(path, ("saving", "old", "tmp")):
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)


def recover(path: Path) -> None:
    """After a process died between the two renames of the fallback replacement, put the
    old folder back at ``path`` (nothing happens when ``path`` exists)."""
    if path.exists() or path.is_symlink():
        return
    olds = sorted(_stale(path, ("old",)), key=lambda p: p.stat().st_mtime)
    if olds:
        with contextlib.suppress(OSError):  # another process may be recovering it too
            os.rename(olds[-1], path)
            fsync_path(path.parent)


def fsync_path(path: Path) -> None:
    """``fsync`` a file or a folder (a folder's fsync makes its renames durable)."""
    flags = os.O_RDONLY | (getattr(os, "O_DIRECTORY", 0) if path.is_dir() else 0)
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def replace_file(path: Path, payload: bytes | bytearray) -> None:
    """Write ``payload`` to ``path``, durably and atomically (see the module docstring)."""
    clean_stale(path)
    tmp = temporary_sibling(path, "tmp")
    # os.open with mode 0o666 honours the umask, as a plain open() would (mkstemp: 0o600)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
        commit_file(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def commit_file(tmp: Path, path: Path) -> None:
    """Put ``tmp`` -- a complete file written by the caller under
    :func:`temporary_sibling` ``(path, 'tmp')`` -- in place of ``path``, durably: fsync
    it, rename it over ``path``, fsync the folder."""
    fsync_path(tmp)
    os.replace(tmp, path)
    fsync_path(path.parent)


@functools.cache
def _renameat2():
    if not sys.platform.startswith("linux"):
        return None
    fn = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
    if fn is not None:
        fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                       ctypes.c_uint]  # fmt: skip
        fn.restype = ctypes.c_int
    return fn


def exchange(a: Path, b: Path) -> bool:
    """Swap the names ``a`` and ``b`` in one atomic step; False where this platform or
    filesystem cannot (then nothing happened)."""
    fn = _renameat2()
    if fn is None:
        return False
    if fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def replace_folder(tmp: Path, path: Path) -> None:
    """Make ``path`` name the complete folder ``tmp`` (its files already fsynced), the old
    folder at ``path`` (if any) being removed; see the module docstring."""
    fsync_path(tmp)
    parent = path.parent
    if not path.exists():
        os.rename(tmp, path)
    elif exchange(tmp, path):  # path: the new folder; tmp: the old one
        fsync_path(parent)
        shutil.rmtree(tmp, ignore_errors=True)
    else:  # two renames; recover() repairs a death between them
        old = temporary_sibling(path, "old")
        os.rename(path, old)
        fsync_path(parent)
        os.rename(tmp, path)
        fsync_path(parent)
        shutil.rmtree(old, ignore_errors=True)
    fsync_path(parent)
