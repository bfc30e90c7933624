"""``MLPEnsembleRegressor``: a deep ensemble of :class:`~jaxmlp.MLPRegressor` members
trained side by side in one compiled program, with a predictive standard deviation.

The prediction is the members' mean; ``predict(X, return_std=True)`` adds the standard
deviation of the members' predictions, i.e. how much models that differ only in their
random start (and, with ``bootstrap=True``, their resample) disagree: the epistemic part
of the uncertainty, which grows away from the training data. It is not a noise model:
the members are plain squared-error regressors, so the noise around the mean (the
aleatoric part) is not in it (Lakshminarayanan et al., 2017, add a variance output for
that).
"""

from __future__ import annotations

import typing

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.utils.validation import validate_data

from jaxmlp.sklearn.base import BaseMLP
from jaxmlp.sklearn.ensemble import BaseEnsemble
from jaxmlp.sklearn.regressor import MLPRegressor

__all__ = ["MLPEnsembleRegressor"]


class MLPEnsembleRegressor(RegressorMixin, BaseEnsemble):
    """A deep ensemble of MLP regressors, trained in one vectorised program.

    Parameters
    ----------
    estimator : MLPRegressor, default=None
        The member template (default ``MLPRegressor()``); its ``random_state`` is replaced
        per member.
    n_estimators : int, default=5
    bootstrap : bool, default=False
    random_state : int, RandomState instance or None, default=None
    models_per_program : int or 'auto', default='auto'
    n_jobs : int, default=None
        As for :class:`~jaxmlp.MLPEnsembleClassifier`.

    Attributes
    ----------
    estimators_ : list of MLPRegressor
        The fitted members (diverged members left out).
    diverged_members_ : list of int
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Only with string column names.

    Examples
    --------
    >>> import numpy as np
    >>> from jaxmlp import MLPRegressor, MLPEnsembleRegressor
    >>> X = np.linspace(-1, 1, 200)[:, None]; y = np.sin(3 * X[:, 0])
    >>> member = MLPRegressor(hidden_layer_sizes=(32,), solver="lbfgs")
    >>> ens = MLPEnsembleRegressor(member, n_estimators=4,
    ...                            random_state=0).fit(X, y)
    >>> mean, std = ens.predict(np.array([[0.0], [3.0]]), return_std=True)
    """

    _member: typing.ClassVar[type[BaseMLP]] = MLPRegressor
    _parameter_constraints: typing.ClassVar[dict] = {
        **BaseEnsemble._parameter_constraints,
        "estimator": [MLPRegressor, None],
    }

    def fit(self, X, y, sample_weight=None, *, eval_set=None, callback=None, folds=None):
        """Fit all members side by side.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,), default=None
        eval_set : sequence of (X, y) pairs, default=None
            Sets every member evaluates after every epoch (see ``eval_curves_``).
        callback : callable, default=None
            ``callback(epochs_done, loss)`` after every chunk of epochs (the members' most
            epochs and their mean latest training loss), e.g. for a progress bar.
        folds : sequence of ``n_estimators`` arrays of row indices, default=None
            Cross-fitting: member ``i`` trains on the rows outside ``folds[i]`` and, with
            ``early_stopping``, stops on ``folds[i]`` instead of a random share.

        Returns
        -------
        self
        """
        self._validate_params()
        X, y = validate_data(self, X, y, accept_sparse=["csr", "csc"], multi_output=True,
                             y_numeric=True, dtype=(np.float64, np.float32))  # fmt: skip
        self._fit_members(X, y, sample_weight, eval_set, callback, folds)
        return self

    def member_predictions(self, X) -> np.ndarray:
        """Every member's predictions, shape (n_members, n_samples) (or
        (n_members, n_samples, n_outputs))."""
        X = self._rows(X)
        return np.stack([m.predict(X) for m in self.estimators_])

    def predict(self, X, return_std: bool = False):
        """Mean of the members' predictions, shape (n_samples,) (or (n_samples,
        n_outputs)); with ``return_std=True`` also their standard deviation, same shape."""
        members = self.member_predictions(X)
        mean = members.mean(axis=0)
        return (mean, members.std(axis=0)) if return_std else mean
