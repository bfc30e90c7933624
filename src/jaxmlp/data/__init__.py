"""Data: the toy data sets (:mod:`~jaxmlp.data.toy`) and users' tables
(:mod:`~jaxmlp.data.tables` reads CSV/Parquet, :mod:`~jaxmlp.data.schema` gives the column
kinds and the preprocessing, :mod:`~jaxmlp.data.prepare` the target and the split).

The toy sets' names are importable from here, as before: ``from jaxmlp.data import
make_dataset``.
"""

from jaxmlp.data.toy import DATASETS, Split, make_dataset, tutorial_split

__all__ = ["DATASETS", "Split", "make_dataset", "tutorial_split"]
