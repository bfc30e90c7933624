"""The one progress bar of the CLI: ``label done/total``, bar, elapsed and remaining time
and a live text (e.g. the loss), on stderr."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

from jaxmlp.cli.common import err

__all__ = ["progress_bar"]


@contextlib.contextmanager
def progress_bar(total: int, label: str, enabled: bool = True
                 ) -> Iterator[Callable[..., None] | None]:  # fmt: skip
    """A rich progress bar counting ``label`` (epochs, models) up to ``total``.

    Yields ``update(done, text="")`` (``done`` None: the count stays) -- or None when
    not ``enabled``, so that callers pass no callback at all and training runs in one
    piece. The bar appears at the first update: an error before training (a bad table)
    shows no empty bar.
    """
    if not enabled:
        yield None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = (
        TextColumn(label),
        MofNCompleteColumn(),
        BarColumn(bar_width=24),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        TextColumn("{task.fields[text]}"),
    )
    bar = Progress(*columns, console=err)
    task = bar.add_task(label, total=total, text="")

    def update(done: int | None, text: str = "") -> None:
        if not bar.live.is_started:
            bar.start()
        if done is None:  # a stage after the counted work: the count stays
            bar.update(task, text=text)
        else:
            bar.update(task, completed=min(done, total), text=text)

    try:
        yield update
    finally:
        if bar.live.is_started:
            # the line left behind (all a log that is not a terminal gets) says what was
            # counted, not a stage that has ended ("fitting the baselines...")
            bar.update(task, text="")
            bar.stop()
