"""Tables larger than memory: Parquet row groups, read one at a time.

Plain pyarrow, chosen over grain: grain's strength is random access to single records
(ArrayRecord) fed through worker processes; a Parquet file's unit of reading is the row
group, which pyarrow reads directly, and the per-row work here (a ColumnTransformer) is
vectorised per row group -- so a reader thread that keeps the next row groups ready
(:func:`prefetch`) is all the device needs, without another dependency.

Row groups are read with ``pre_buffer=False``: with pyarrow's default, reading buffers the
whole file (measured for #13: 424 MB resident for a 246 MB file, against ~160 MB one row
group at a time). A CSV file is converted once to a row-grouped Parquet file beside it
(:func:`csv_to_parquet`).
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from jaxmlp.core.durable import clean_stale, commit_file, temporary_sibling
from jaxmlp.data.tables import TableError

__all__ = ["ROWS_PER_GROUP", "RowGroups", "converted_path", "csv_to_parquet", "prefetch"]

ROWS_PER_GROUP = 65_536
# the rule a CSV is converted under, kept in the copy's schema: a copy written under an
# older rule (empty text cells as a category "") is converted again
CONVERSION_KEY, CONVERSION_RULE = b"jaxmlp.csv_conversion", b"2"


class Piece(NamedTuple):
    file: Path
    group: int
    rows: int


class RowGroups:
    """The row groups of one Parquet file or of a folder of them (same schema each)."""

    def __init__(self, path: str | Path) -> None:
        import pyarrow.parquet as pq

        path = Path(path)
        files = sorted(path.glob("*.parquet")) if path.is_dir() else [path]
        if not files:
            raise TableError(f"'{path}' holds no .parquet files to stream.")
        self.pieces: list[Piece] = []
        self.schema: Any = None
        for file in files:
            try:
                meta = pq.ParquetFile(file, pre_buffer=False).metadata
            except (OSError, ValueError) as e:  # unreadable, not Parquet, no permission
                raise TableError(f"Cannot read '{file}' as Parquet: {e}") from None
            schema = meta.schema.to_arrow_schema()
            if self.schema is None:
                self.schema, self.first = schema, file
            elif not schema.equals(self.schema):
                raise TableError(_schema_difference(self.first, self.schema, file, schema))
            self.pieces += [Piece(file, g, meta.row_group(g).num_rows)
                            for g in range(meta.num_row_groups)]  # fmt: skip
        self.columns = list(self.schema.names)
        self.num_rows = sum(p.rows for p in self.pieces)
        if not self.num_rows:
            raise TableError(f"'{path}' has no rows.")

    def read(self, index: int, columns: Sequence[str] | None = None) -> Any:
        """Row group ``index`` as a pandas DataFrame (only ``columns``)."""
        import pyarrow.parquet as pq

        piece = self.pieces[index]
        try:
            table = pq.ParquetFile(piece.file, pre_buffer=False).read_row_group(
                piece.group, columns=None if columns is None else list(columns)
            )
        except (OSError, ValueError) as e:
            raise TableError(
                f"Cannot read row group {piece.group} of '{piece.file}': {e}"
            ) from None
        return table.to_pandas()


def _schema_difference(first: Path, a: Any, other: Path, b: Any) -> str:
    names_a, names_b = set(a.names), set(b.names)
    if names_a != names_b:
        extra = sorted(names_b - names_a)
        missing = sorted(names_a - names_b)
        what = (f"has column(s) {', '.join(extra)} that '{first.name}' lacks" if extra
                else f"lacks column(s) {', '.join(missing)}")  # fmt: skip
    else:
        diff = [n for n in a.names if a.field(n).type != b.field(n).type]
        what = "; ".join(f"'{n}' is {b.field(n).type} there but {a.field(n).type} in "
                         f"'{first.name}'" for n in diff[:3])  # fmt: skip
        what = what or "orders its columns differently"
    return (f"The Parquet files to stream differ in schema: '{other}' {what}. Write every "
            "file with the same columns and types.")  # fmt: skip


def converted_path(csv: Path) -> Path:
    """Where the row-grouped Parquet copy of ``csv`` goes: beside it."""
    return csv.with_name(csv.name + ".rowgroups.parquet")


def csv_to_parquet(csv: Path, progress: Callable[[int, int], None] | None = None) -> Path:
    """Convert ``csv`` once to a Parquet file of :data:`ROWS_PER_GROUP`-row groups beside
    it (reused while newer than the CSV); written under a temporary name and renamed, so a
    crash leaves no half file. ``progress(bytes_read, bytes_total)``.

    Raises
    ------
    TableError
        The folder is not writable (with the fix), or the CSV cannot be parsed.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    out = converted_path(csv)
    if (out.is_file() and out.stat().st_mtime >= csv.stat().st_mtime
            and _conversion_rule(out) == CONVERSION_RULE):  # fmt: skip
        return out

    def unwritable(reason: str) -> TableError:
        return TableError(
            f"--stream converts '{csv}' to Parquet once, into '{out}', but cannot write it "
            f"({reason}). Convert it yourself somewhere writable (e.g. pandas' to_parquet "
            "with row_group_size=65536) and stream that file, or copy the CSV to a writable "
            "folder."
        )

    if not os.access(out.parent, os.W_OK):
        raise unwritable(f"no write permission in '{out.parent}'")
    total = max(1, csv.stat().st_size)
    clean_stale(out)
    tmp = temporary_sibling(out, "tmp")
    try:
        # an empty text cell (or NA, null, ...) is missing, as pandas reads it in memory,
        # not a category of its own
        nulls = pacsv.ConvertOptions(strings_can_be_null=True)
        reader = pacsv.open_csv(csv, read_options=pacsv.ReadOptions(block_size=1 << 24),
                                convert_options=nulls)  # fmt: skip
        schema = reader.schema.with_metadata({CONVERSION_KEY: CONVERSION_RULE})
        with pq.ParquetWriter(tmp, schema) as writer:
            pending: list = []
            rows = 0
            for batch in reader:
                pending.append(batch)
                rows += batch.num_rows
                if rows >= ROWS_PER_GROUP:
                    writer.write_table(pa.Table.from_batches(pending),
                                       row_group_size=ROWS_PER_GROUP)  # fmt: skip
                    pending, rows = [], 0
                if progress is not None:
                    progress(min(total, _position(reader, total)), total)
            if pending:
                writer.write_table(pa.Table.from_batches(pending), row_group_size=ROWS_PER_GROUP)
        commit_file(tmp, out)
    except pa.ArrowInvalid as e:
        tmp.unlink(missing_ok=True)
        raise TableError(f"Cannot convert '{csv}' to Parquet for streaming: {e}") from None
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise unwritable(e.strerror or str(e)) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return out


def _conversion_rule(path: Path) -> bytes | None:
    """The :data:`CONVERSION_RULE` a converted file was written under (None: older)."""
    import pyarrow.parquet as pq

    try:
        return (pq.read_schema(path).metadata or {}).get(CONVERSION_KEY)
    except Exception:  # an unreadable copy is converted again
        return None


def _position(reader: Any, total: int) -> int:
    stats = getattr(reader, "stats", None)
    return int(getattr(stats, "bytes_read", total)) if stats is not None else total


def prefetch(items: Iterator[Any], depth: int = 2) -> Iterator[Any]:
    """``items`` produced by a background thread, up to ``depth`` ahead (reading and
    preprocessing the next row groups while the device trains on this one); an error in
    the thread is raised here."""
    q: queue.Queue = queue.Queue(maxsize=depth)
    done = object()
    stop = threading.Event()

    def work() -> None:
        try:
            for item in items:
                if stop.is_set():
                    return
                q.put(item)
        except BaseException as e:  # handed to the consumer
            q.put(e)
        q.put(done)

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    try:
        while True:
            item = q.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while thread.is_alive():  # let a blocked put finish
            try:
                q.get_nowait()
            except queue.Empty:
                thread.join(timeout=0.05)


def chunks(frames: Iterator[tuple[np.ndarray, np.ndarray]],
           size: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:  # fmt: skip
    """Rows of ``frames`` (X, y pairs) regrouped into chunks of exactly ``size`` rows (the
    last one shorter), in order."""
    xs: list[np.ndarray] = []
    ys: list[np.ndarray] = []
    held = 0
    for X, y in frames:
        xs.append(X)
        ys.append(y)
        held += len(X)
        while held >= size:
            X_all, y_all = np.concatenate(xs), np.concatenate(ys)
            yield X_all[:size], y_all[:size]
            xs, ys, held = [X_all[size:]], [y_all[size:]], held - size
    if held:
        yield np.concatenate(xs), np.concatenate(ys)
