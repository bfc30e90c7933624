"""jaxmlp: multilayer perceptrons in JAX, for classification and regression.

The subpackages are the architecture; each imports only those below it (import-linter
checks it, see CONTRIBUTING.md):

- :mod:`jaxmlp.cli` -- the ``jaxmlp`` command line, the only layer that prints;
- :mod:`jaxmlp.reports` -- figures, HTML reports and the files commands write;
- :mod:`jaxmlp.workflows` -- runners that return values: :func:`fit`, :func:`fit_many`,
  the demo, the sweep, training on a table;
- :mod:`jaxmlp.io` -- atomic files and model folders (:func:`save`, :func:`load`);
- :mod:`jaxmlp.sklearn` -- :class:`MLPClassifier`, :class:`MLPRegressor`, their
  ensembles, :class:`MLPSearchCV`, :class:`MLPHalvingSearchCV`, :class:`TableModel`, and
  the bridge to the engine;
- :mod:`jaxmlp.core` -- the engine: networks (:func:`mlp`), the activation and optimizer
  tables (:func:`make_optimizer`), training as one compiled program, many models at once;
- :mod:`jaxmlp.data` -- toy data sets (:func:`make_dataset`) and users' tables.

Names are imported on first use, so ``import jaxmlp`` (and ``jaxmlp --help``) stays fast.
"""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING

try:
    __version__ = version("jaxmlp")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0"

_EXPORTS = {
    "jaxmlp.data.toy": ("DATASETS", "Split", "make_dataset", "tutorial_split"),
    "jaxmlp.core.program": ("DivergenceError",),
    "jaxmlp.workflows.fit": ("FitResult", "History", "TrainConfig", "fit"),
    "jaxmlp.workflows.fit_many": ("ManyFitResult", "fit_many"),
    "jaxmlp.core.nn": ("ACTIVATIONS", "Network", "mlp", "swish"),
    "jaxmlp.core.optimizers": ("OPTIMIZERS", "SCHEDULES", "make_optimizer"),
    "jaxmlp.sklearn.classifier": ("MLPClassifier",),
    "jaxmlp.sklearn.regressor": ("MLPRegressor",),
    "jaxmlp.sklearn.ensemble": ("MLPEnsembleClassifier", "Uncertainty"),
    "jaxmlp.sklearn.ensemble_regressor": ("MLPEnsembleRegressor",),
    "jaxmlp.sklearn.search": ("MLPSearchCV",),
    "jaxmlp.sklearn.halving": ("MLPHalvingSearchCV",),
    "jaxmlp.core.compiled": ("enable_compilation_cache",),
    "jaxmlp.core.devices": ("use_cpu_cores",),
    "jaxmlp.io.model_files": ("ModelFileError", "load", "save"),
    "jaxmlp.sklearn.table_model": ("TableModel",),
    "jaxmlp.sklearn.table_estimators": ("TableClassifier", "TableRegressor"),
}
_WHERE = {name: module for module, names in _EXPORTS.items() for name in names}
__all__ = [  # noqa: RUF022 -- grouped by module, as _EXPORTS
    "__version__",
    "DATASETS", "Split", "make_dataset", "tutorial_split",
    "DivergenceError", "FitResult", "History", "TrainConfig", "fit",
    "ManyFitResult", "fit_many",
    "ACTIVATIONS", "Network", "mlp", "swish",
    "OPTIMIZERS", "SCHEDULES", "make_optimizer",
    "MLPClassifier", "MLPRegressor", "MLPEnsembleClassifier", "Uncertainty",
    "MLPEnsembleRegressor", "MLPSearchCV", "MLPHalvingSearchCV",
    "enable_compilation_cache", "use_cpu_cores",
    "ModelFileError", "load", "save",
    "TableClassifier", "TableModel", "TableRegressor",
]  # fmt: skip
assert sorted(__all__[1:]) == sorted(_WHERE)

if TYPE_CHECKING:
    from jaxmlp.core.compiled import enable_compilation_cache
    from jaxmlp.core.devices import use_cpu_cores
    from jaxmlp.core.nn import ACTIVATIONS, Network, mlp, swish
    from jaxmlp.core.optimizers import OPTIMIZERS, SCHEDULES, make_optimizer
    from jaxmlp.core.program import DivergenceError
    from jaxmlp.data.toy import DATASETS, Split, make_dataset, tutorial_split
    from jaxmlp.io.model_files import ModelFileError, load, save
    from jaxmlp.sklearn.classifier import MLPClassifier
    from jaxmlp.sklearn.ensemble import MLPEnsembleClassifier, Uncertainty
    from jaxmlp.sklearn.ensemble_regressor import MLPEnsembleRegressor
    from jaxmlp.sklearn.halving import MLPHalvingSearchCV
    from jaxmlp.sklearn.regressor import MLPRegressor
    from jaxmlp.sklearn.search import MLPSearchCV
    from jaxmlp.sklearn.table_estimators import TableClassifier, TableRegressor
    from jaxmlp.sklearn.table_model import TableModel
    from jaxmlp.workflows.fit import FitResult, History, TrainConfig, fit
    from jaxmlp.workflows.fit_many import ManyFitResult, fit_many


def __getattr__(name: str) -> object:
    if name in _WHERE:
        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'jaxmlp' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
