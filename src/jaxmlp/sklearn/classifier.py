"""``jaxmlp.MLPClassifier``: scikit-learn's MLPClassifier, trained by the JAX engine.

Same constructor, defaults, fitted attributes and methods as
``sklearn.neural_network.MLPClassifier`` (scikit-learn 1.9), plus what its users have
asked for: 'swish'/'gelu'/callable activations, ``dropout``, ``class_weight``,
``validation_loss_curve_``, ``partial_fit`` with early stopping, ``optimizer=`` for any
optax transformation, and ``fit(..., eval_set=, callback=)`` to watch a fit.

This module is the scikit-learn interface; :mod:`jaxmlp.sklearn.inputs` validates the
input, :mod:`jaxmlp.sklearn.bridge` turns a fit into an engine job and stores its result,
:mod:`jaxmlp.sklearn.state` holds the fitted state as data.
"""

from __future__ import annotations

import itertools
import typing
from collections.abc import Sequence
from numbers import Integral, Real
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, Options, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import _check_partial_fit_first_call, type_of_target
from sklearn.utils.validation import check_is_fitted

from jaxmlp.core.activations import names as activation_names
from jaxmlp.sklearn import bridge, inputs
from jaxmlp.sklearn.state import (
    FITTED_ATTRIBUTES,
    FittedState,
    export_state,
    initialize,
    restore_state,
)

__all__ = ["MLPClassifier", "checked_classifier"]


class MLPClassifier(ClassifierMixin, BaseEstimator):
    """Multi-layer perceptron classifier trained in JAX; a drop-in for scikit-learn's.

    Parameters are scikit-learn's (see ``sklearn.neural_network.MLPClassifier``), with
    the same defaults and meaning, plus:

    Parameters
    ----------
    activation : str or callable, default='relu'
        Hidden-layer activation: a name of :data:`jaxmlp.ACTIVATIONS` ('identity',
        'logistic', 'tanh', 'relu' as scikit-learn, and 'swish', 'sigmoid', 'gelu'), or a
        callable ``f(x) -> y`` applied elementwise, e.g. ``activation=jax.nn.softplus``.
    dropout : float, default=0.0
        Probability of zeroing each hidden unit during training (inverted dropout; no
        dropout at prediction time).
    class_weight : dict, 'balanced' or None, default=None
        Weights ``{class_label: weight}`` multiplying the sample weights; 'balanced' uses
        ``n_samples / (n_classes * np.bincount(y))``. Not for multi-label targets.
    optimizer : optax.GradientTransformation or None, default=None
        Train with this optax transformation instead of ``solver`` (mini-batches as for
        'sgd'/'adam'; ``learning_rate`` schedules then do not apply).
    dtype : {'float32', 'float64'} or None, default=None
        Precision of training and prediction. None does what scikit-learn does: float32
        input trains in float32, any other input in float64. 'float32' trains float64
        input in float32 too, as PyTorch and Keras do by default: about twice as fast on
        a CPU (twice the FLOPs per cycle, half the memory traffic), with weights accurate
        to ~1e-7 relative instead of ~1e-16.
    devices : int or list of jax devices, default=None
        Train one model data-parallel over these devices: the first ``devices`` of
        ``jax.devices()`` (every host's, under ``jax.distributed``) or the devices given.
        Each mini-batch is split over them, parameters and optimizer state are replicated
        and XLA adds up the gradients; the model equals the one-device fit to float
        rounding. None: one device. The stochastic solvers only ('lbfgs' runs on one).

    Attributes
    ----------
    classes_, coefs_, intercepts_, loss_, best_loss_, loss_curve_, validation_scores_,
    best_validation_score_, n_iter_, t_, n_features_in_, feature_names_in_, n_layers_,
    n_outputs_, out_activation_
        As in scikit-learn. ``coefs_`` and ``intercepts_`` have the training precision
        (see ``dtype``).
    validation_loss_curve_ : list of float or None
        With ``early_stopping=True``: the validation loss (cross-entropy, without the L2
        term) after every epoch.
    stop_training_ : bool
        Whether the last ``fit``/``partial_fit`` call met a stopping rule (with
        ``partial_fit`` and ``early_stopping=True``: the validation score has not improved
        for more than ``n_iter_no_change`` calls).
    eval_curves_ : ndarray of shape (n_iter_, n_sets, 2)
        With ``fit(..., eval_set=...)``: each set's (cross-entropy, accuracy) after every
        epoch, computed inside the compiled training loop.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from jaxmlp import MLPClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = MLPClassifier(hidden_layer_sizes=(32,), activation="swish", dropout=0.1,
    ...                     max_iter=300, random_state=0).fit(X, y)
    >>> clf.predict_proba(X[:2]).shape
    (2, 3)
    """

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
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "optimizer": [HasMethods(["init", "update"]), None],
        "dtype": [StrOptions({"float32", "float64"}), None],
        "devices": [Interval(Integral, 1, None, closed="left"), list, tuple, None],
    }

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
        dropout=0.0,
        class_weight=None,
        optimizer=None,
        dtype=None,
        devices=None,
    ):
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
        self.class_weight = class_weight
        self.optimizer = optimizer
        self.dtype = dtype
        self.devices = devices

    # ------------------------------------------------------------------ public API

    def fit(self, X, y, sample_weight=None, *, eval_set=None, callback=None):
        """Fit the model to data matrix X and target(s) y.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Class labels, or a label indicator matrix for multi-label classification.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights; the loss is their weighted mean.
        eval_set : sequence of (X, y) pairs, default=None
            Sets to evaluate after every epoch, inside the compiled loop (no extra host
            sync); their (loss, accuracy) per epoch land in ``eval_curves_``.
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

    @available_if(_check_solver)
    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """Update the model with a single epoch over the given data.

        With ``early_stopping=True`` a stratified ``validation_fraction`` of each call's
        data is held out: ``validation_scores_`` grows by one per call, ``coefs_`` hold the
        best weights seen so far (training continues from the latest ones), and
        ``stop_training_`` turns True once the score has not improved by ``tol`` for more
        than ``n_iter_no_change`` calls.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,), default=None
        classes : array of shape (n_classes,), default=None
            All classes, required on the first call (not for multi-label targets).

        Returns
        -------
        self
        """
        self._validate_params()
        if _check_partial_fit_first_call(self, classes):
            self._label_binarizer = LabelBinarizer()
            if type_of_target(y).startswith("multilabel"):
                self._label_binarizer.fit(y)
            else:
                self._label_binarizer.fit(classes)
        bridge.run(bridge.job(self, self._plan(X, y, sample_weight, incremental=True)))
        return self

    def predict_proba(self, X):
        """Probability estimates.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Columns ordered as ``classes_``; rows sum to 1 (not for multi-label).
        """
        check_is_fitted(self)
        p = self._forward_pass(X)
        if self.n_outputs_ == 1:
            p = p.ravel()
            return np.vstack([1 - p, p]).T
        if self.out_activation_ == "softmax":
            p /= p.sum(axis=1, keepdims=True)
        return p

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`, shape (n_samples, n_classes)."""
        p = self.predict_proba(X)
        return np.log(p, out=p)

    def predict(self, X):
        """Predicted classes, shape (n_samples,) (or (n_samples, n_labels) multi-label)."""
        check_is_fitted(self)
        p = self._forward_pass(X)
        if self.n_outputs_ == 1:
            p = p.ravel()
        return self._label_binarizer.inverse_transform(p)

    def get_fitted_state(self) -> FittedState:
        """Everything the fit learned, as data (arrays, numbers, lists): the one export
        that pickling and :func:`jaxmlp.save` use."""
        check_is_fitted(self)
        return export_state(self)

    def set_fitted_state(self, state: FittedState) -> MLPClassifier:
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
        tags.classifier_tags.multi_label = True
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
              shared: inputs.Validated | None = None) -> bridge.FitPlan:  # fmt: skip
        """Validate the input (or take ``shared``, the same input validated for another
        estimator) and decide one fit (up to the compiled run)."""
        first_pass = not hasattr(self, "coefs_") or (not self.warm_start and not incremental)
        v = inputs.validated(self, X, y, incremental, first_pass, shared)
        X, y_raw, Y, dtype = v.X, v.y, v.Y, v.dtype
        w = inputs.sample_weights(self, y_raw, sample_weight, X)
        multiclass = self._label_binarizer.y_type_ == "multiclass"
        targets = Y.argmax(axis=1).astype(np.int32) if multiclass else Y
        stochastic = self.solver in ("sgd", "adam") or self.optimizer is not None
        if incremental and not stochastic:
            self._check_solver()
        self._random_state = check_random_state(self.random_state)
        self._check_shape(X.shape[1], Y.shape[1], first_pass, multiclass, stochastic, dtype)
        validation = None
        if self.early_stopping and stochastic:  # hold out a validation set, as scikit-learn
            X, X_val, targets, t_val, w, w_val = inputs.early_stopping_split(
                self, X, targets, w, Y, self._random_state)  # fmt: skip
            validation = (X_val, t_val, w_val)
        seed = int(self._random_state.randint(np.iinfo(np.int32).max))
        evals = [inputs.eval_targets(self, Xe, ye, dtype, multiclass)
                 for Xe, ye in (eval_set or ())]  # fmt: skip
        net = bridge.network(self, Y.shape[1], self.dropout > 0)
        kind = "softmax" if multiclass else "logistic"
        n_evals = int(validation is not None) + len(evals)
        program = bridge.program(self, net.apply, kind, X.shape[0], n_evals,
                                 validation is not None, stochastic)  # fmt: skip
        return bridge.FitPlan(X, targets, w, validation, evals, np.dtype(dtype), program, seed,
                              first_pass, incremental, stochastic, v)  # fmt: skip

    def _check_shape(self, n_features: int, n_outputs: int, first_pass: bool,
                     multiclass: bool, stochastic: bool, dtype) -> None:  # fmt: skip
        """Fresh weights on a first fit; else the network must be the one fitted before."""
        layer_units = [n_features, *self._hidden(), n_outputs]
        if first_pass:
            initialize(self, layer_units, multiclass, stochastic, dtype)
        elif [c.shape for c in self.coefs_] != list(itertools.pairwise(layer_units)):
            raise ValueError(
                "warm_start/partial_fit needs the same network shape as the previous fit: "
                f"layer sizes {[c.shape for c in self.coefs_]} vs {layer_units}."
            )


def checked_classifier(**params: Any) -> MLPClassifier:
    """``MLPClassifier(**params)`` with its parameters checked now rather than at ``fit``:
    ``InvalidParameterError`` names a bad one (e.g. before a table is read)."""
    est = MLPClassifier(**params)
    est._validate_params()
    return est
