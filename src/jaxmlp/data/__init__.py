"""Data: the toy data sets (:mod:`~jaxmlp.data.toy`) and users' tables
(:mod:`~jaxmlp.data.tables`: reading CSV/Parquet, schema, preprocessing).

The toy sets' names are importable from here, as before: ``from jaxmlp.data import
make_dataset``.
"""

from jaxmlp.data.toy import DATASETS, Split, make_dataset, tutorial_split

__all__ = ["DATASETS", "Split", "make_dataset", "tutorial_split"]
