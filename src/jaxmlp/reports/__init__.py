"""Figures, reports and the files each command writes: shared figure pieces
(:mod:`~jaxmlp.reports.figures`), self-contained HTML pages (:mod:`~jaxmlp.reports.html`),
and one module per report (:mod:`~jaxmlp.reports.demo`, :mod:`~jaxmlp.reports.sweep`,
:mod:`~jaxmlp.reports.table`)."""
