"""HTML pieces both halves of the table report use (:mod:`jaxmlp.reports.table` for a
classifier, :mod:`jaxmlp.reports.table_regression` for a regressor): the metrics table of
jaxmlp next to the baselines, the columns of the data summary, the warnings."""

from __future__ import annotations

import html

from jaxmlp.reports.html import fmt

__all__ = ["columns_table", "members_note", "metrics_table", "rows_label", "warnings_list",
           "where_html"]  # fmt: skip


def metrics_table(summary: dict, names: tuple[tuple[str, str], ...],
                  rows: list[tuple[str, str, str]]) -> str:  # fmt: skip
    """``<table id="metrics">``: a row per ``(label, metric key, format kind)`` in ``rows``,
    a column for jaxmlp and one per baseline ``(summary key, name)`` of ``names`` that
    ``summary`` has."""
    jx = summary["jaxmlp"]
    others = [(name, summary[key]) for key, name in names if summary.get(key)]
    head = "<th></th><th>jaxmlp</th>" + "".join(f"<th>{name}</th>" for name, _ in others)
    body = "".join(
        f"<tr><td>{label}</td><td>{fmt(jx.get(key), kind)}</td>"
        + "".join(f"<td>{fmt(o.get(key), kind)}</td>" for _, o in others) + "</tr>"
        for label, key, kind in rows if key in jx
    )  # fmt: skip
    return f'<table id="metrics"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def columns_table(data: dict) -> str:
    """``<table id="columns">``: each column's kind, dtype, missing and distinct counts."""
    rows = "".join(
        f"<tr><td>{html.escape(c['column'])}</td><td>{html.escape(c['kind'])}</td>"
        f"<td>{html.escape(c['dtype'])}</td><td>{c['missing']}</td><td>{c['distinct']}</td></tr>"
        for c in data["columns"]
    )
    head = "".join(f"<th>{h}</th>" for h in ("column", "kind", "dtype", "missing", "distinct"))
    return f'<table id="columns"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>'


def warnings_list(summary: dict) -> str:
    """The table's warnings as a list ('' without any), after the model's shortfall
    against the baselines in bold (:func:`~jaxmlp.workflows.shortfall.shortfall`)."""
    short = summary.get("shortfall")
    top = (f'<p class="warn" id="shortfall"><strong>{html.escape(short["message"])}</strong>'
           "</p>" if short else "")  # fmt: skip
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in summary.get("warnings", []))
    return top + (f'<ul class="warn">{notes}</ul>' if notes else "")


def rows_label(summary: dict) -> str:
    """What the scores were measured on, for figure titles: 'out of fold' (cross-fitted:
    each row by the member that did not train on it), 'rows of FILE' (``jaxmlp evaluate``)
    or 'validation rows'."""
    if summary.get("scored") == "evaluated":
        return f"rows of {summary['evaluated_on']}"
    return "out of fold" if summary.get("scored") == "out-of-fold" else "validation rows"


def where_html(summary: dict) -> str:
    """The metrics heading's end: where the scores were measured."""
    if summary.get("scored") == "out-of-fold":
        return ("out of fold (every row, predicted by the member that did not train on it; "
                "the baselines cross-validated on the same folds)")  # fmt: skip
    if summary.get("scored") == "evaluated":
        return f"on the rows of {html.escape(summary['evaluated_on'])}"
    return "on the validation rows"


def members_note(summary: dict) -> str:
    """What the learning curves of several members are, and why they can step (empty for
    one network): ``summary['members']`` members."""
    if summary.get("members", 1) <= 1:
        return ""
    return (f", averaged over the {summary['members']} members while they train (each stops on "
            "its own: the mean steps where one stops)")  # fmt: skip
