"""Reading a user's table (CSV or Parquet), with a clear :class:`TableError` for every file
that cannot be used as given.

The schema and preprocessing are in :mod:`jaxmlp.data.schema`, the split and the target
in :mod:`jaxmlp.data.prepare`.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

__all__ = ["TableError", "check_columns", "read_table"]

# a CSV field may hold this much text (the csv module's own default is 128 KiB)
FIELD_LIMIT = 1 << 20
ROW_INDEX = "\x00row index"  # stands for an unnamed first column in the name checks


class TableError(ValueError):
    """The table cannot be used as given; the message says why and what to do."""


def _delimiter(sample: str) -> str:
    """The delimiter among , ; tab | that splits the sample's lines into the same number
    (>= 2) of fields, the most fields winning; ',' when none does. Fields are quoted with
    '"' (RFC 4180, what pandas and spreadsheets write); csv.Sniffer was not used: it takes
    a stray ' in a column name for the quote character."""
    lines = sample.splitlines(keepends=True)
    if len(lines) > 1 and not sample.endswith(("\n", "\r")):
        lines = lines[:-1]  # the sample may end mid-line
    best, widest = ",", 1
    for candidate in (",", ";", "\t", "|"):
        try:
            rows = [r for r in csv.reader(lines[:50], delimiter=candidate, quotechar='"') if r]
        except csv.Error:
            continue
        widths = {len(r) for r in rows}
        if len(widths) == 1 and (width := widths.pop()) > widest:
            best, widest = candidate, width
    return best


def _check_ragged(path: Path, delimiter: str, quote: str) -> list[str]:
    """Every non-empty row must have as many fields as the header; returns the header."""
    csv.field_size_limit(max(csv.field_size_limit(), FIELD_LIMIT))
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.reader(f, delimiter=delimiter, quotechar=quote, skipinitialspace=True)
            header = next(reader, [])
            for row in reader:
                if row and len(row) != len(header):
                    raise TableError(
                        f"'{path}' has ragged rows: line {reader.line_num} has {len(row)} "
                        f"field(s) but the header has {len(header)} (delimiter "
                        f"{delimiter!r}). Every row needs one value per column (empty for "
                        "missing)."
                    )
        return [h.strip() for h in header]
    except UnicodeDecodeError:
        raise TableError(f"'{path}' is not a UTF-8 text CSV file.") from None
    except csv.Error as e:
        if "field larger than field limit" in str(e):
            raise TableError(
                f"'{path}' has a field longer than {FIELD_LIMIT >> 20} MiB (near line "
                f"{reader.line_num}); no value of a table cell is that long. Check the "
                "file's quoting (an unclosed quote swallows the rest of the file)."
            ) from None
        raise TableError(f"'{path}' is not a well-formed CSV file: {e}.") from None


def read_table(path: str | Path):
    """Read a CSV (any delimiter, quoted fields, header row) or Parquet file.

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    TableError
        Missing, empty, unreadable, ragged or not a CSV/Parquet file.
    """
    import pandas as pd

    path = Path(path)
    if not path.exists():
        raise TableError(f"Data file '{path}' does not exist. Check the path.")
    if path.is_dir():
        raise TableError(f"'{path}' is a folder; give a CSV or Parquet file.")
    if path.stat().st_size == 0:
        raise TableError(f"Data file '{path}' is empty; it needs a header row and data rows.")
    if path.suffix.lower() in (".parquet", ".pq"):
        try:
            df = pd.read_parquet(path)
        except Exception as e:  # pyarrow raises many types for a bad file
            raise TableError(
                f"'{path}' is not a readable Parquet file ({type(e).__name__}: {e})."
            ) from None
        check_columns([str(c) for c in df.columns], path)
        return df
    with open(path, "rb") as f:
        head = f.read(65536)
    if b"\x00" in head or head.startswith(b"PAR1"):
        raise TableError(
            f"'{path}' is not a CSV file (it holds binary data). Give a CSV file with a header "
            "row, or a Parquet file named *.parquet."
        )
    delimiter, quote = _delimiter(head.decode("utf-8", errors="ignore")), '"'
    names = _check_ragged(path, delimiter, quote)
    # a first column without a name above named ones: the row index pandas' to_csv (or R's
    # write.csv) writes by default -- read as the index and left out, with a note
    index = len(names) > 1 and not names[0] and all(names[1:])
    check_columns([ROW_INDEX, *names[1:]] if index else names, path)
    try:
        df = pd.read_csv(
            path,
            sep=delimiter,
            quotechar=quote,
            skipinitialspace=True,
            encoding="utf-8-sig",
            index_col=0 if index else None,
        )
    except pd.errors.ParserError as e:
        raise TableError(
            f"'{path}' has ragged rows: {e}. Every row needs as many fields as the header."
        ) from None
    except pd.errors.EmptyDataError:
        raise TableError(f"Data file '{path}' has no columns.") from None
    except UnicodeDecodeError:
        raise TableError(f"'{path}' is not a UTF-8 text CSV file.") from None
    if df.shape[0] == 0:
        raise TableError(f"Data file '{path}' has a header but no data rows.")
    if index:
        df = df.reset_index(drop=True)
        df.attrs["notes"] = [
            f"column 1 of '{path.name}' has no name: read as a row index (pandas' to_csv "
            "writes one unless index=False) and left out"
        ]
    return df


def check_columns(names: list[str], path: Any) -> None:
    """Every column needs a name of its own: an empty or repeated name is a TableError
    (pandas would silently rename it to 'Unnamed: 0' or 'a.1')."""
    for i, name in enumerate(names):
        if not str(name).strip():
            raise TableError(
                f"Column {i + 1} of '{path}' has no name (an empty header field). Give every "
                "column a name in the header row."
            )
    seen: dict[str, int] = {}
    for i, name in enumerate(names):
        if name in seen:
            raise TableError(
                f"'{path}' names two columns '{name}' (columns {seen[name] + 1} and {i + 1}). "
                "Give each column its own name."
            )
        seen[name] = i
