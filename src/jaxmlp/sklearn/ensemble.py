"""``MLPEnsembleClassifier``: a deep ensemble of :class:`~jaxmlp.MLPClassifier` members
trained side by side in one compiled program.

Members differ in their random state (initial weights, shuffling, early-stopping split)
and, with ``bootstrap=True``, in a bootstrap resample of the rows (drawn as per-row counts,
i.e. sample weights, so all members share one padded copy of the data). Predictions average
the members' probabilities; :meth:`MLPEnsembleClassifier.predict_uncertainty` says how much
they disagree (Lakshminarayanan et al., 2017, "Simple and scalable predictive uncertainty
estimation using deep ensembles").
"""

from __future__ import annotations

import typing
import warnings
from numbers import Integral
from typing import Any, NamedTuple

import numpy as np
from scipy.special import xlogy
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from jaxmlp.core.program import DivergenceError
from jaxmlp.core.validation import caller_stacklevel
from jaxmlp.sklearn.base import BaseMLP
from jaxmlp.sklearn.bridge import fit_estimators
from jaxmlp.sklearn.classifier import MLPClassifier

__all__ = ["BaseEnsemble", "MLPEnsembleClassifier", "Uncertainty", "entropy", "uncertainty"]


class Uncertainty(NamedTuple):
    """Spread of an ensemble's predictions, per sample (entropies in nats).

    Attributes
    ----------
    entropy : ndarray of shape (n_samples,)
        Entropy of the averaged prediction (total uncertainty).
    expected_entropy : ndarray of shape (n_samples,)
        Mean of the members' entropies (aleatoric part: noise every member sees).
    mutual_information : ndarray of shape (n_samples,)
        ``entropy - expected_entropy`` (epistemic part: the members disagree).
    disagreement : ndarray of shape (n_samples,)
        Share of members whose predicted class differs from the ensemble's.
    proba_std : ndarray of shape (n_samples, n_classes)
        Standard deviation of the members' class probabilities.
    """

    entropy: np.ndarray
    expected_entropy: np.ndarray
    mutual_information: np.ndarray
    disagreement: np.ndarray
    proba_std: np.ndarray


def entropy(p: np.ndarray) -> np.ndarray:
    """Entropy in nats of probability vectors ``p`` of shape (..., n_classes); (...).
    A zero probability adds nothing (``0 log 0 = 0``), in any float precision."""
    return -np.sum(xlogy(p, p), axis=-1)


def uncertainty(members: np.ndarray) -> Uncertainty:
    """How much ensemble members disagree, from their class probabilities ``members`` of
    shape (n_members, n_samples, n_classes); see :class:`Uncertainty`."""
    mean = members.mean(axis=0)
    total = entropy(mean)
    expected = entropy(members).mean(axis=0)
    vote = np.argmax(mean, axis=1)
    disagreement = (np.argmax(members, axis=2) != vote[None]).mean(axis=0)
    return Uncertainty(total, expected, np.maximum(total - expected, 0.0), disagreement,
                       members.std(axis=0))  # fmt: skip


class BaseEnsemble(BaseEstimator):
    """What the two ensembles share: parameters, members trained side by side, curves.
    A subclass sets ``_member`` (the member class) and checks its target in ``fit``."""

    _member: typing.ClassVar[type[BaseMLP]] = MLPClassifier
    _parameter_constraints: typing.ClassVar[dict] = {
        "estimator": [HasMethods(["fit", "get_fitted_state"]), None],
        "n_estimators": [Interval(Integral, 1, None, closed="left")],
        "bootstrap": ["boolean"],
        "random_state": ["random_state"],
        "models_per_program": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "n_jobs": [Integral, None],
    }

    def __init__(
        self,
        estimator=None,
        n_estimators: int = 5,
        *,
        bootstrap: bool = False,
        random_state=None,
        models_per_program="auto",
        n_jobs=None,
    ):
        self.estimator = estimator
        self.n_estimators = n_estimators
        self.bootstrap = bootstrap
        self.random_state = random_state
        self.models_per_program = models_per_program
        self.n_jobs = n_jobs

    def _fit_members(self, X, y, sample_weight, eval_set=None, callback=None,
                     folds=None) -> None:  # fmt: skip
        """Fit ``n_estimators`` members on validated X, y side by side (diverged members
        left out with a warning); sets ``estimators_`` and ``diverged_members_``. With
        ``folds`` (``n_estimators`` arrays of row indices) member ``i`` trains on the rows
        outside ``folds[i]`` and stops early on ``folds[i]`` (cross-fitting)."""
        member_cls: Any = self._member
        template: Any = clone(member_cls() if self.estimator is None else self.estimator)
        if not isinstance(template, self._member):
            raise TypeError(f"{type(self).__name__} takes a {self._member.__name__} as its "
                            f"estimator, got {type(template).__name__}.")  # fmt: skip
        template._validate_params()  # once: members differ only in random_state
        if folds is not None and len(folds) != self.n_estimators:
            raise ValueError(f"folds holds {len(folds)} folds for n_estimators="
                             f"{self.n_estimators} members; give one fold per member.")  # fmt: skip
        params = template.get_params(deep=False)
        rng = check_random_state(self.random_state)
        seeds = rng.randint(np.iinfo(np.int32).max, size=self.n_estimators)
        n = X.shape[0]
        base_w = None if sample_weight is None else _check_sample_weight(sample_weight, X)
        members, fits = [], []
        for i, seed in enumerate(seeds):
            member = member_cls(**{**params, "random_state": int(seed)})
            w = base_w
            if self.bootstrap:
                counts = np.bincount(rng.randint(n, size=n), minlength=n).astype(np.float64)
                w = counts if base_w is None else counts * base_w
            members.append(member)
            if folds is None:
                fits.append((member, X, y, w))
                continue
            held = np.zeros(n, bool)
            held[folds[i]] = True
            member._held_out = (X[held], y[held])  # its early-stopping rows (BaseMLP._plan)
            fits.append((member, X[~held], y[~held], None if w is None else w[~held]))
        try:
            errors = fit_estimators(fits, models_per_program=self.models_per_program,
                                    n_jobs=self.n_jobs, params_checked=True,
                                    eval_set=eval_set, callback=callback)  # fmt: skip
        finally:
            for member in members:  # rows are not part of the model
                member.__dict__.pop("_held_out", None)
        self._keep_members(members, errors)

    def _resume(self, X, y, max_iter: int, sample_weight=None, eval_set=None,
                callback=None) -> typing.Self:  # fmt: skip
        """Continue the kept members of a fitted ensemble on the same X, y (and
        ``sample_weight``) from their whole training state until each has trained
        ``max_iter`` epochs in all (see ``fit_estimators(resume=True)``): fits to r0, then
        r1 epochs end as one fit of r1 epochs, curves and ``n_iter_`` included. A member
        that diverges now is left out as ``fit`` leaves it out. Returns self.

        Raises
        ------
        ValueError
            For a ``bootstrap`` ensemble (its resamples are not kept), or ``max_iter``
            below the epochs already trained.
        DivergenceError
            If every member has diverged.
        """
        check_is_fitted(self)
        if self.bootstrap:
            raise ValueError(f"{type(self).__name__}(bootstrap=True) cannot continue its "
                             "members (their resamples are not kept); fit it again with "
                             "more epochs instead.")  # fmt: skip
        X, y = validate_data(self, X, y, accept_sparse=["csr", "csc"], reset=False,
                             dtype=(np.float64, np.float32))  # fmt: skip
        w = None if sample_weight is None else _check_sample_weight(sample_weight, X)
        members = list(self.estimators_)
        for member in members:
            member.set_params(max_iter=int(max_iter))
        kept = [i for i in range(self.n_estimators) if i not in self.diverged_members_]
        errors = fit_estimators([(m, X, y, w) for m in members], params_checked=True,
                                models_per_program=self.models_per_program,
                                n_jobs=self.n_jobs, eval_set=eval_set, callback=callback,
                                resume=True)  # fmt: skip
        self._keep_members(members, errors, kept, self.diverged_members_)
        return self

    def _keep_members(self, members: list, errors: list, indices: list | None = None,
                      diverged: list | None = None) -> None:  # fmt: skip
        """Keep the members that trained (``estimators_``); record the diverged ones by
        their index among the ``n_estimators`` (``indices``: the members', default
        0, 1, ...; ``diverged``: those that diverged before) and warn where any did now."""
        before = list(diverged or [])
        self.diverged_members_ = list(before)
        self.estimators_ = []
        where = range(len(members)) if indices is None else indices
        for i, member, error in zip(where, members, errors, strict=True):
            if error is None:
                self.estimators_.append(member)
            elif isinstance(error, DivergenceError):
                self.diverged_members_.append(i)
            else:
                raise error
        self.diverged_members_.sort()
        if not self.estimators_:
            first = errors[0]
            raise DivergenceError(
                first.epoch if isinstance(first, DivergenceError) else 0,
                " Every member of the ensemble diverged; lower learning_rate_init.",
            )
        if len(self.diverged_members_) > len(before):
            warnings.warn(
                f"{len(self.diverged_members_)} of {self.n_estimators} ensemble members "
                f"diverged (members {self.diverged_members_}) and are left out of the "
                "predictions; lower learning_rate_init to keep them.",
                UserWarning,
                stacklevel=caller_stacklevel(),
            )

    def _rows(self, X):
        check_is_fitted(self)
        return validate_data(self, X, accept_sparse=["csr", "csc"], reset=False,
                             dtype=(np.float64, np.float32))  # fmt: skip

    @property
    def loss_curves_(self) -> np.ndarray:
        """Members' training loss per epoch, shape (n_members, max epochs), nan-padded."""
        check_is_fitted(self)
        curves = [np.asarray(m.loss_curve_, float) for m in self.estimators_]
        out = np.full((len(curves), max(len(c) for c in curves)), np.nan)
        for i, c in enumerate(curves):
            out[i, : len(c)] = c
        return out

    @property
    def eval_curves_(self) -> np.ndarray:
        """With ``fit(..., eval_set=...)``: each set's (loss, score) after every epoch,
        averaged over the members still training; shape (max epochs, n_sets, 2)."""
        check_is_fitted(self)
        curves = [np.asarray(m.eval_curves_, float) for m in self.estimators_]
        out = np.full((len(curves), max(len(c) for c in curves), *curves[0].shape[1:]), np.nan)
        for i, c in enumerate(curves):
            out[i, : len(c)] = c
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # epochs no member ran: nan
            return np.nanmean(out, axis=0)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


class MLPEnsembleClassifier(ClassifierMixin, BaseEnsemble):
    """A deep ensemble of MLPs, trained in one vectorised program.

    Parameters
    ----------
    estimator : MLPClassifier, default=None
        The member template (default ``MLPClassifier()``); its ``random_state`` is replaced
        per member.
    n_estimators : int, default=5
        Number of members.
    bootstrap : bool, default=False
        Train each member on a bootstrap resample (as per-row counts); otherwise members
        differ only in their random state, which is what deep ensembles usually do.
    random_state : int, RandomState instance or None, default=None
        Draws the members' random states (and bootstrap resamples).
    models_per_program : int or 'auto', default='auto'
        Most members trained in one compiled program; 'auto' fills the available memory.
    n_jobs : int, default=None
        Train blocks of fits in parallel joblib workers, as scikit-learn's ``n_jobs``
        (None: 1 unless in a ``joblib.parallel_config`` context; -1: all workers). Under
        ``joblib.parallel_config(backend="ray")`` or ``"dask"`` the blocks run on that
        cluster; each block is still one vectorised program. Results depend on
        ``n_jobs`` and ``models_per_program`` only, never on the backend.

    Attributes
    ----------
    estimators_ : list of MLPClassifier
        The fitted members (diverged members left out).
    diverged_members_ : list of int
        Indices of members whose training diverged (excluded, with a warning).
    classes_ : ndarray of shape (n_classes,)
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Only with string column names.

    Examples
    --------
    >>> from sklearn.datasets import make_moons
    >>> from jaxmlp import MLPClassifier, MLPEnsembleClassifier
    >>> X, y = make_moons(200, noise=0.2, random_state=0)
    >>> ens = MLPEnsembleClassifier(MLPClassifier(max_iter=300), n_estimators=8,
    ...                             random_state=0).fit(X, y)
    >>> spread = ens.predict_uncertainty(X[:3])  # entropy, mutual_information, ...
    """

    _parameter_constraints: typing.ClassVar[dict] = {
        **BaseEnsemble._parameter_constraints,
        "estimator": [MLPClassifier, None],
    }

    def fit(self, X, y, sample_weight=None, *, eval_set=None, callback=None, folds=None):
        """Fit all members side by side.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
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

        Raises
        ------
        DivergenceError
            If every member diverged.
        """
        self._validate_params()
        X, y = validate_data(self, X, y, accept_sparse=["csr", "csc"],
                             dtype=(np.float64, np.float32))  # fmt: skip
        if type_of_target(y).startswith("multilabel") or np.ndim(y) > 1:
            raise ValueError(
                "MLPEnsembleClassifier takes binary or multi-class targets (y of shape "
                "(n_samples,)); for multi-label targets fit MLPClassifier members yourself."
            )
        self._fit_members(X, y, sample_weight, eval_set, callback, folds)
        self.classes_ = self.estimators_[0].classes_
        return self

    def member_proba(self, X) -> np.ndarray:
        """Every member's class probabilities, shape (n_members, n_samples, n_classes)."""
        X = self._rows(X)
        return np.stack([m.predict_proba(X) for m in self.estimators_])

    def predict_proba(self, X) -> np.ndarray:
        """Mean of the members' probabilities, shape (n_samples, n_classes)."""
        return self.member_proba(X).mean(axis=0)

    def predict_log_proba(self, X) -> np.ndarray:
        """Logarithm of :meth:`predict_proba`."""
        return np.log(self.predict_proba(X))

    def predict(self, X) -> np.ndarray:
        """Class with the highest mean probability, shape (n_samples,)."""
        proba = self.predict_proba(X)  # checks that the ensemble is fitted first
        return self.classes_[np.argmax(proba, axis=1)]

    def predict_uncertainty(self, X) -> Uncertainty:
        """How much the members disagree, per sample: see :class:`Uncertainty`."""
        return uncertainty(self.member_proba(X))
