"""``jaxmlp.MLPRegressor``: scikit-learn's MLPRegressor, trained by the JAX engine.

Same constructor, defaults, fitted attributes and methods as
``sklearn.neural_network.MLPRegressor`` (scikit-learn 1.9): half the squared error
(``loss='squared_error'``, identity output) or half the Poisson deviance
(``loss='poisson'``, exponential output), R² as the early-stopping score, scikit-learn's
initial weights. The jaxmlp extras are those of :class:`~jaxmlp.MLPClassifier`:
more activations, ``dropout``, ``optimizer=``, ``dtype``, ``devices``, and
``fit(..., eval_set=, callback=)``.
"""

from __future__ import annotations

import typing
from typing import Any

from sklearn.base import RegressorMixin
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from jaxmlp.sklearn import inputs
from jaxmlp.sklearn.base import BaseMLP, checked

__all__ = ["MLPRegressor", "checked_regressor"]


class MLPRegressor(RegressorMixin, BaseMLP):
    """Multi-layer perceptron regressor trained in JAX; a drop-in for scikit-learn's.

    Parameters are scikit-learn's (see ``sklearn.neural_network.MLPRegressor``), with the
    same defaults and meaning, plus ``dropout``, ``optimizer``, ``dtype``, ``devices`` and
    ``early_stopping_metric`` (here 'loss' is the validation squared error) as in
    :class:`~jaxmlp.MLPClassifier`.

    Parameters
    ----------
    loss : {'squared_error', 'poisson'}, default='squared_error'
        'squared_error': half the mean squared error, identity output. 'poisson': half
        the Poisson deviance with a log link (exponential output); targets must be
        non-negative.

    Attributes
    ----------
    coefs_, intercepts_, loss_, best_loss_, loss_curve_, validation_scores_,
    best_validation_score_, n_iter_, t_, n_features_in_, feature_names_in_, n_layers_,
    n_outputs_, out_activation_
        As in scikit-learn (``validation_scores_`` are R² on the held-out rows).
    validation_loss_curve_ : list of float or None
        With ``early_stopping=True``: the validation loss (without the L2 term) after
        every epoch.
    stop_training_ : bool
        Whether the last ``fit``/``partial_fit`` call met a stopping rule.
    eval_curves_ : ndarray of shape (n_iter_, n_sets, 2)
        With ``fit(..., eval_set=...)``: each set's (loss, R²) after every epoch.

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from sklearn.preprocessing import StandardScaler
    >>> from jaxmlp import MLPRegressor
    >>> X, y = load_diabetes(return_X_y=True)
    >>> reg = MLPRegressor(hidden_layer_sizes=(32,), solver="lbfgs", max_iter=500,
    ...                    random_state=0).fit(StandardScaler().fit_transform(X), y)
    >>> reg.out_activation_
    'identity'
    """

    _parameter_constraints: typing.ClassVar[dict] = {
        **BaseMLP._parameter_constraints,
        "loss": [StrOptions({"squared_error", "poisson"})],
    }

    def __init__(
        self,
        loss="squared_error",
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
        self.loss = loss

    @available_if(BaseMLP._check_solver)
    def partial_fit(self, X, y, sample_weight=None):
        """Update the model with a single epoch over the given data.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self
        """
        self._validate_params()
        self._partial_fit(X, y, sample_weight)
        return self

    def predict(self, X):
        """Predicted values, shape (n_samples,) (or (n_samples, n_outputs))."""
        check_is_fitted(self)
        y = self._forward_pass(X)
        return y.ravel() if y.shape[1] == 1 else y

    def _validate_input(self, X, y, incremental: bool, reset: bool):
        return inputs.validate_regression_input(self, X, y, reset)

    def _output_kind(self) -> str:
        return "poisson" if self.loss == "poisson" else "squared"


def checked_regressor(**params: Any) -> MLPRegressor:
    """``MLPRegressor(**params)`` with its parameters checked now rather than at ``fit``."""
    return typing.cast(MLPRegressor, checked(MLPRegressor, **params))
