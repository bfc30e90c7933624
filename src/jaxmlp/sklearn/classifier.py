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

import typing
from typing import Any

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import _check_partial_fit_first_call, type_of_target
from sklearn.utils.validation import check_is_fitted

from jaxmlp.sklearn import inputs
from jaxmlp.sklearn.base import BaseMLP, checked

__all__ = ["MLPClassifier", "checked_classifier"]


class MLPClassifier(ClassifierMixin, BaseMLP):
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
        input in float32 too, as PyTorch and Keras do by default: 1.6-1.8x faster on a
        CPU (benchmarks/README.md; twice the FLOPs per cycle, half the memory traffic),
        with weights accurate to ~1e-7 relative instead of ~1e-16.
    devices : int or list of jax devices, default=None
        Train one model data-parallel over these devices: the first ``devices`` of
        ``jax.devices()`` (every host's, under ``jax.distributed``) or the devices given.
        Each mini-batch is split over them, parameters and optimizer state are replicated
        and XLA adds up the gradients; the model equals the one-device fit to float
        rounding. None: one device. The stochastic solvers only ('lbfgs' runs on one).
    early_stopping_metric : {'score', 'loss'}, default='score'
        What ``early_stopping`` watches on the held-out rows: 'score' is scikit-learn's
        rule (the accuracy must improve by ``tol``); 'loss' stops when the validation log
        loss has not fallen by ``tol`` for ``n_iter_no_change`` epochs and keeps the
        weights of the lowest one -- smooth where accuracy on a few rows is a step
        function (``validation_scores_`` still hold the accuracy).

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
        **BaseMLP._parameter_constraints,
        "class_weight": [dict, StrOptions({"balanced"}), None],
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
        early_stopping_metric="score",
    ):
        super().__init__(
            hidden_layer_sizes=hidden_layer_sizes, activation=activation, solver=solver,
            alpha=alpha, batch_size=batch_size, learning_rate=learning_rate,
            learning_rate_init=learning_rate_init, power_t=power_t, max_iter=max_iter,
            shuffle=shuffle, random_state=random_state, tol=tol, verbose=verbose,
            warm_start=warm_start, momentum=momentum, nesterovs_momentum=nesterovs_momentum,
            early_stopping=early_stopping, validation_fraction=validation_fraction,
            beta_1=beta_1, beta_2=beta_2, epsilon=epsilon, n_iter_no_change=n_iter_no_change,
            max_fun=max_fun, dropout=dropout, optimizer=optimizer, dtype=dtype, devices=devices,
            early_stopping_metric=early_stopping_metric,
        )  # fmt: skip
        self.class_weight = class_weight

    # ------------------------------------------------------------------ public API

    @available_if(BaseMLP._check_solver)
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
        self._partial_fit(X, y, sample_weight)
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

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags

    # ------------------------------------------------------------------ internals

    def _validate_input(self, X, y, incremental: bool, reset: bool):
        return inputs.validate_fit_input(self, X, y, incremental, reset)

    def _output_kind(self) -> str:
        return "softmax" if self._label_binarizer.y_type_ == "multiclass" else "logistic"


def checked_classifier(**params: Any) -> MLPClassifier:
    """``MLPClassifier(**params)`` with its parameters checked now rather than at ``fit``:
    ``InvalidParameterError`` names a bad one (e.g. before a table is read)."""
    return typing.cast(MLPClassifier, checked(MLPClassifier, **params))
