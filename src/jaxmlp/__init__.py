"""jaxmlp: multilayer-perceptron classifiers in JAX.

The pieces, in the order data flows through them:

- :mod:`jaxmlp.data` -- toy data sets and the tutorial's split (:func:`make_dataset`).
- :mod:`jaxmlp.nn` -- stax ``(init, apply)`` networks (:func:`mlp`).
- :mod:`jaxmlp.optim` -- optimizer names to optax (:func:`make_optimizer`).
- :mod:`jaxmlp.engine` -- training as one compiled program; :mod:`jaxmlp.many` vmaps it
  over models; :mod:`jaxmlp.training` is the tutorial-level :func:`fit`.
- :mod:`jaxmlp.estimator` -- the scikit-learn estimator :class:`MLPClassifier`;
  :mod:`jaxmlp.jobs` trains many prepared fits side by side, which
  :mod:`jaxmlp.ensemble` (:class:`MLPEnsembleClassifier`), :mod:`jaxmlp.search`
  (:class:`MLPSearchCV`) and :mod:`jaxmlp.training_many` (:func:`fit_many`) build on.
- :mod:`jaxmlp.plots`, :mod:`jaxmlp.report` -- figures and the HTML report.

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
    "jaxmlp.data": ("DATASETS", "Split", "make_dataset", "tutorial_split"),
    "jaxmlp.engine": ("DivergenceError",),
    "jaxmlp.training": ("FitResult", "History", "TrainConfig", "fit"),
    "jaxmlp.training_many": ("ManyFitResult", "fit_many"),
    "jaxmlp.nn": ("ACTIVATIONS", "Network", "mlp", "swish"),
    "jaxmlp.optim": ("OPTIMIZERS", "SCHEDULES", "make_optimizer"),
    "jaxmlp.estimator": ("MLPClassifier",),
    "jaxmlp.ensemble": ("MLPEnsembleClassifier", "Uncertainty"),
    "jaxmlp.search": ("MLPSearchCV",),
    "jaxmlp.cache": ("enable_compilation_cache",),
    "jaxmlp.devices": ("use_cpu_cores",),
    "jaxmlp.model_files": ("ModelFileError", "load", "save"),
    "jaxmlp.table_model": ("TableModel",),
}
_WHERE = {name: module for module, names in _EXPORTS.items() for name in names}
__all__ = [  # noqa: RUF022 -- grouped by module, as _EXPORTS
    "__version__",
    "DATASETS", "Split", "make_dataset", "tutorial_split",
    "DivergenceError", "FitResult", "History", "TrainConfig", "fit",
    "ManyFitResult", "fit_many",
    "ACTIVATIONS", "Network", "mlp", "swish",
    "OPTIMIZERS", "SCHEDULES", "make_optimizer",
    "MLPClassifier", "MLPEnsembleClassifier", "Uncertainty", "MLPSearchCV",
    "enable_compilation_cache", "use_cpu_cores",
    "ModelFileError", "load", "save", "TableModel",
]  # fmt: skip
assert sorted(__all__[1:]) == sorted(_WHERE)

if TYPE_CHECKING:
    from jaxmlp.cache import enable_compilation_cache
    from jaxmlp.data import DATASETS, Split, make_dataset, tutorial_split
    from jaxmlp.devices import use_cpu_cores
    from jaxmlp.engine import DivergenceError
    from jaxmlp.ensemble import MLPEnsembleClassifier, Uncertainty
    from jaxmlp.estimator import MLPClassifier
    from jaxmlp.model_files import ModelFileError, load, save
    from jaxmlp.nn import ACTIVATIONS, Network, mlp, swish
    from jaxmlp.optim import OPTIMIZERS, SCHEDULES, make_optimizer
    from jaxmlp.search import MLPSearchCV
    from jaxmlp.table_model import TableModel
    from jaxmlp.training import FitResult, History, TrainConfig, fit
    from jaxmlp.training_many import ManyFitResult, fit_many


def __getattr__(name: str):
    if name in _WHERE:
        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'jaxmlp' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
