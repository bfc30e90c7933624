"""What :class:`~jaxmlp.MLPClassifier` and :class:`~jaxmlp.MLPRegressor` share, as
scikit-learn's ``BaseMultilayerPerceptron``: the parameters, ``fit`` / ``partial_fit`` on
one ``_plan``, the fitted-state seam and pickling. A subclass says how its target is
validated (``_validate_input``) and which output kind the engine trains
(``_output_kind``: 'softmax', 'logistic', 'squared' or 'poisson')."""

from __future__ import annotations

import itertools
import typing
from collections.abc import Sequence
from numbers import Integral, Real
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, Options, StrOptions
from sklearn.utils.validation import check_is_fitted

from jaxmlp.core.activations import names as activation_names
from jaxmlp.sklearn import bridge, inputs
from jaxmlp.sklearn.state import (
    FITTED_ATTRIBUTES,
    OUT_ACTIVATIONS,
    FittedState,
    export_state,
    initialize,
    restore_state,
)

__all__ = ["BaseMLP", "checked"]


class BaseMLP(BaseEstimator):
    """Base of the jaxmlp estimators (not for direct use); parameters as scikit-learn's
    ``BaseMultilayerPerceptron`` plus ``dropout``, ``optimizer``, ``dtype``, ``devices``,
    ``early_stopping_metric``."""

    _parameter_constraints: typing.ClassVar[dict] = {
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(activation_names())), callable],
        "solver": [StrOptions({"lbfgs", "sgd", "adam"})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "learning_rate": [StrOptions({"constant", "invscaling", "adaptive"})],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "n_iter_no_change": [
            Interval(Integral, 1, None, closed="left"),
            Options(Real, {np.inf}),
        ],
        "max_fun": [Interval(Integral, 1, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "early_stopping_metric": [StrOptions({"score", "loss"})],
        "optimizer": [HasMethods(["init", "update"]), None],
        "dtype": [StrOptions({"float32", "float64"}), None],
        "devices": [Interval(Integral, 1, None, closed="left"), list, tuple, None],
    }

    def __init__(self, hidden_layer_sizes, activation, *, solver, alpha, batch_size,
                 learning_rate, learning_rate_init, power_t, max_iter, shuffle,
                 random_state, tol, verbose, warm_start, momentum, nesterovs_momentum,
                 early_stopping, validation_fraction, beta_1, beta_2, epsilon,
                 n_iter_no_change, max_fun, dropout, optimizer, dtype,
                 devices, early_stopping_metric="score"):  # fmt: skip
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.dropout = dropout
        self.optimizer = optimizer
        self.dtype = dtype
        self.devices = devices
        self.early_stopping_metric = early_stopping_metric

    # ------------------------------------------------------------ what a subclass says

    def _validate_input(self, X, y, incremental: bool, reset: bool):
        """``(X, y, Y)``: validated rows, the target as given (n,) or (n, k), and the
        engine's targets of shape (n, n_outputs)."""
        raise NotImplementedError

    def _output_kind(self) -> str:
        """The engine's output kind for the validated target (see jaxmlp.core.losses)."""
        raise NotImplementedError

    # ------------------------------------------------------------------ public API

    def fit(self, X, y, sample_weight=None, *, eval_set=None, callback=None):
        """Fit the model to data matrix X and target(s) y.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Class labels (or a label indicator matrix for multi-label classification),
            or real targets for regression.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights; the loss is their weighted mean.
        eval_set : sequence of (X, y) pairs, default=None
            Sets to evaluate after every epoch, inside the compiled loop (no extra host
            sync); their (loss, score) per epoch land in ``eval_curves_`` (the score is
            the accuracy, or R² for a regressor).
        callback : callable, default=None
            ``callback(epochs_done, loss)`` after every chunk of up to 128 epochs (the
            training loop's only host sync), e.g. for a progress bar; ``loss`` is the
            latest epoch's training loss.

        Returns
        -------
        self
        """
        self._validate_params()
        plan = self._plan(X, y, sample_weight, incremental=False, eval_set=eval_set)
        bridge.run(bridge.job(self, plan, callback), callback)
        return self

    def _check_solver(self) -> bool:
        if self.solver not in ("sgd", "adam") and self.optimizer is None:
            raise AttributeError(
                f"partial_fit is only available for stochastic optimizers. {self.solver} is "
                "not stochastic."
            )
        return True

    def _partial_fit(self, X, y, sample_weight) -> None:
        bridge.run(bridge.job(self, self._plan(X, y, sample_weight, incremental=True)))

    def get_fitted_state(self) -> FittedState:
        """Everything the fit learned, as data (arrays, numbers, lists): the one export
        that pickling and :func:`jaxmlp.save` use."""
        check_is_fitted(self)
        return export_state(self)

    def set_fitted_state(self, state: FittedState) -> typing.Self:
        """Make this (unfitted or fitted) estimator the fitted model ``state`` describes;
        the inverse of :meth:`get_fitted_state`. Returns self."""
        restore_state(self, state)
        return self

    def __getstate__(self) -> dict:
        state = {k: v for k, v in super().__getstate__().items()
                 if k not in FITTED_ATTRIBUTES}  # fmt: skip
        if hasattr(self, "coefs_"):
            state["_fitted_state"] = export_state(self)
        return state

    def __setstate__(self, state: dict) -> None:
        fitted = state.pop("_fitted_state", None)
        super().__setstate__(state)
        if fitted is not None:
            restore_state(self, fitted)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    # ------------------------------------------------------------------ internals

    def _forward_pass(self, X) -> np.ndarray:
        return bridge.forward(self, inputs.validate_rows(self, X))

    def _hidden(self) -> tuple[int, ...]:
        h = self.hidden_layer_sizes
        h = [h] if not hasattr(h, "__iter__") else list(h)
        if any(int(v) <= 0 for v in h):
            raise ValueError(f"hidden_layer_sizes must be > 0, got {h}.")
        return tuple(int(v) for v in h)

    def _plan(self, X, y, sample_weight, incremental: bool, eval_set: Sequence | None = None,
              shared: inputs.Validated | None = None,
              continued: bool = False) -> bridge.FitPlan:  # fmt: skip
        """Validate the input (or take ``shared``, the same input validated for another
        estimator) and decide one fit (up to the compiled run); ``continued``: see
        :class:`~jaxmlp.sklearn.bridge.FitPlan`."""
        if continued:
            self._check_continued()
        first_pass = not continued and (
            not hasattr(self, "coefs_") or (not self.warm_start and not incremental)
        )
        v = inputs.validated(self, X, y, incremental, first_pass, shared)
        X, y_raw, Y, dtype = v.X, v.y, v.Y, v.dtype
        w = inputs.sample_weights(self, y_raw, sample_weight, X)
        kind = self._output_kind()
        targets = Y.argmax(axis=1).astype(np.int32) if kind == "softmax" else Y
        stochastic = self.solver in ("sgd", "adam") or self.optimizer is not None
        if incremental and not stochastic:
            self._check_solver()
        self._random_state = check_random_state(self.random_state)
        self._check_shape(X.shape[1], Y.shape[1], first_pass, kind, stochastic, dtype)
        validation = None
        held_out = getattr(self, "_held_out", None)  # a cross-fit member's own fold
        if self.early_stopping and stochastic and held_out is not None:
            X_val, t_val = inputs.eval_targets(self, held_out[0], held_out[1], dtype, kind)
            w_val = inputs.sample_weights(self, np.asarray(held_out[1]), None, X_val)
            validation = (X_val, t_val, w_val)
        elif self.early_stopping and stochastic:  # hold out a validation set, as scikit-learn
            stratify = Y if kind == "logistic" else None
            X, X_val, targets, t_val, w, w_val = inputs.early_stopping_split(
                self, X, targets, w, stratify, self._split_random_state(continued))  # fmt: skip
            validation = (X_val, t_val, w_val)
        seed = int(self._random_state.randint(np.iinfo(np.int32).max))
        evals = [inputs.eval_targets(self, Xe, ye, dtype, kind)
                 for Xe, ye in (eval_set or ())]  # fmt: skip
        net = bridge.network(self, Y.shape[1], self.dropout > 0)
        n_evals = int(validation is not None) + len(evals)
        program = bridge.program(self, net.apply, kind, X.shape[0], n_evals,
                                 validation is not None, stochastic)  # fmt: skip
        return bridge.FitPlan(X, targets, w, validation, evals, np.dtype(dtype), program, seed,
                              first_pass, incremental, stochastic, v, continued)  # fmt: skip

    def _check_continued(self) -> None:
        """A continued fit needs an earlier stochastic fit's engine state, and no fewer
        epochs in all than that fit has already trained."""
        state = getattr(self, "_engine_state", None)
        if state is None:
            raise ValueError(
                f"Cannot continue {type(self).__name__}: it has no engine state to resume "
                f"(solver={self.solver!r}, fitted: {hasattr(self, 'coefs_')}). Fit it first "
                "with solver='adam' or 'sgd' (L-BFGS fits cannot be resumed)."
            )
        if int(state.epoch) > self.max_iter:
            raise ValueError(
                f"max_iter={self.max_iter} is below the {int(state.epoch)} epochs this "
                "model has already trained; a continued fit trains up to max_iter epochs in "
                f"all, so set max_iter >= {int(state.epoch)}."
            )

    def _split_random_state(self, continued: bool) -> np.random.RandomState:
        """The random state of the early-stopping split: a continued fit holds out the
        same rows as the first fit (whose weights were drawn from the state before)."""
        before: Any = getattr(self, "_split_state", None)
        if continued and before is not None:
            rng = np.random.RandomState()
            rng.set_state(before)
            return rng
        self._split_state = self._random_state.get_state()
        return self._random_state

    def _check_shape(self, n_features: int, n_outputs: int, first_pass: bool, kind: str,
                     stochastic: bool, dtype) -> None:  # fmt: skip
        """Fresh weights on a first fit; else the network must be the one fitted before."""
        layer_units = [n_features, *self._hidden(), n_outputs]
        if first_pass:
            initialize(self, layer_units, OUT_ACTIVATIONS[kind], stochastic, dtype)
        elif [c.shape for c in self.coefs_] != list(itertools.pairwise(layer_units)):
            raise ValueError(
                "warm_start/partial_fit needs the same network shape as the previous fit: "
                f"layer sizes {[c.shape for c in self.coefs_]} vs {layer_units}."
            )


def checked(cls: type[BaseMLP], **params: Any) -> Any:
    """``cls(**params)`` with its parameters checked now rather than at ``fit``:
    ``InvalidParameterError`` names a bad one (e.g. before a table is read)."""
    est = cls(**params)
    est._validate_params()
    return est
