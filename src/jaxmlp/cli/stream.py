"""``jaxmlp train --stream`` on a CSV: the one-time conversion to row-grouped Parquet, with
a progress bar (see :mod:`jaxmlp.data.stream`)."""

from __future__ import annotations

from pathlib import Path

from jaxmlp.cli.common import fail
from jaxmlp.cli.progress import progress_bar

__all__ = ["convert_csv"]


def convert_csv(data: Path, show_progress: bool) -> None:
    """``--stream`` on a CSV: its row-grouped Parquet copy, made once, with a progress bar
    (in MB read)."""
    if data.suffix.lower() not in (".csv", ".tsv", ".txt") or not data.is_file():
        return
    from jaxmlp.data.stream import csv_to_parquet
    from jaxmlp.data.tables import TableError

    total = max(1, data.stat().st_size >> 20)
    try:
        with progress_bar(total, "converting to Parquet (MB)", enabled=show_progress) as bar:
            csv_to_parquet(data, None if bar is None else lambda done, _: bar(done >> 20))
            if bar is not None:
                bar(total)  # converted (or reused): the whole file, not the MB counted so far
    except TableError as e:
        fail(str(e))
