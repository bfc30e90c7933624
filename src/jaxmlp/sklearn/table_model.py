"""``TableModel``: the common base of :class:`~jaxmlp.TableClassifier` and
:class:`~jaxmlp.TableRegressor` (:mod:`jaxmlp.sklearn.table_estimators`), the
better-by-default model of ``jaxmlp train`` as scikit-learn estimators that take a
DataFrame directly.

``fit(X, y)`` reads the columns of ``X`` (numbers, text and booleans, dates; see
:func:`jaxmlp.data.schema.infer_schema`), fits the preprocessing on them (robust scaling
with smooth clipping, one-hot or target encoding, calendar features:
:func:`jaxmlp.data.prepare.fit_preprocessor`) and trains an ensemble of MLPs side by side
as one program (:func:`jaxmlp.sklearn.table_fit.fit_members`), predictions averaged. A
regressor learns the standardised target and answers in the target's own units (as
scikit-learn's ``TransformedTargetRegressor`` with a ``StandardScaler`` would).

``predict`` takes a DataFrame with the training columns, by name, in any order (extra
columns ignored), or an array shaped like the training one. ``jaxmlp train`` fits one
through :meth:`TableModel.fit_prepared`; :func:`jaxmlp.load` returns one.
"""

from __future__ import annotations

from collections.abc import Callable
from numbers import Integral, Real
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_array, check_is_fitted, column_or_1d, validate_data

from jaxmlp.core.validation import check_positive
from jaxmlp.data.prepare import PreparedTable, fit_preprocessor
from jaxmlp.data.schema import SCALINGS, Schema, clean_features, infer_schema
from jaxmlp.sklearn.cross_fit import MAX_FOLDS, make_folds, oof_scored, resolve_cv
from jaxmlp.sklearn.table_fit import ENSEMBLE, early_stopping_rows, fit_members, table_params

__all__ = ["TableModel"]

_TARGET = "__target__"  # the target's column name while a frame's schema is read


class TableModel(BaseEstimator):
    """Common base of :class:`TableClassifier` and :class:`TableRegressor`.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(256, 256)
        Widths of each member's hidden layers.
    activation : str, default='relu'
    ensemble : int, default=4
        Members trained side by side as one program; their predictions are averaged.
    alpha : float, default=1e-4
        L2 penalty.
    learning_rate_init : float, default=1e-3
        Adam's learning rate.
    batch_size : int or 'auto', default='auto'
        'auto': the power of two nearest n/8 within [32, 256].
    max_iter : int or None, default=None
        Most epochs; None: 1000 with early stopping, 200 without.
    n_iter_no_change : int or None, default=None
        Early stopping's patience in epochs; None: 200 optimizer steps, at least 10 epochs.
    early_stopping : bool, default=True
        Each member holds out its own ``validation_fraction`` of the rows and keeps the
        weights of its lowest held-out loss (left out below 50 rows).
    validation_fraction : float, default=0.1
    dtype : {'float32', 'float64'} or None, default='float32'
        Training precision (None: float32).
    scaling : {'robust', 'standard'}, default='robust'
        Numeric columns: median and IQR then smooth clipping, or mean and standard deviation.
    max_onehot : int or None, default=50
        Text columns with more levels are target-encoded (None: always one-hot).
    categorical, numeric, datetime : tuple of str, default=()
        Columns declared of that kind (otherwise read from their values).
    mlp_params : dict or None, default=None
        Any other :class:`~jaxmlp.MLPClassifier` / :class:`~jaxmlp.MLPRegressor` keyword of
        the members (``solver``, ``momentum``, ``dropout``, ...).
    random_state : int or None, default=None
        Seeds the members (and the target encoder's folds).
    cv : int, 'auto' or None, default='auto'
        Cross-fitting: the rows are cut into ``cv`` folds (stratified for classes) and
        member ``i`` trains on all but fold ``i`` and stops early on it, so every row
        trains the final model and each row's out-of-fold prediction scores it
        (``oof_predictions_``, ``oof_score_``); ``cv`` members replace ``ensemble``.
        'auto': ``ensemble`` folds up to 10,000 rows when ``ensemble`` >= 2 and there is
        no ``time_budget``; above, or with None, each member holds out its own
        ``validation_fraction`` instead. At most 20 folds.
    time_budget : float or None, default=None
        Most seconds the training may take (compilation included; reading and
        preprocessing the table come on top): the members train in rungs that continue
        each other and stop when not even one more epoch fits, with a note in
        ``fit_notes_``. Needs a stochastic solver ('adam' or 'sgd'). None: no limit.

    Attributes
    ----------
    estimator_ : MLPEnsembleClassifier, MLPEnsembleRegressor, MLPClassifier or MLPRegressor
        The fitted network(s), on the preprocessed features.
    preprocessor_ : sklearn.compose.ColumnTransformer
    schema_ : Schema
        Feature columns by kind.
    target_ : str
        The target's column name (``jaxmlp train``), or ``'y'`` for ``fit(X, y)``.
    n_iter_ : int
        Epochs of the longest-trained member.
    fit_time_s_ : float
        Seconds the training took (the preprocessing not included).
    fit_notes_ : list of str
        Notes on the fit: convergence, no early stopping, the time budget, fewer folds.
    cv_folds_ : list of ndarray or None
        Row indices of each member's held-out fold (None: not cross-fitted).
    oof_predictions_ : ndarray of shape (n, n_classes) or (n,), or None
        Cross-fitted: each row's probabilities (a regressor: its prediction in the
        target's units) by the member that did not train on it; ``oof_score_`` (float or
        None) is their accuracy (R² for a regressor); a loaded model: only the score.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Only when fitted on a DataFrame.
    """

    _parameter_constraints: dict = {  # noqa: RUF012 -- scikit-learn's convention
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [str],
        "ensemble": [Interval(Integral, 1, None, closed="left")],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left"), None],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left"), None],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "dtype": [StrOptions({"float32", "float64"}), None],
        "scaling": [StrOptions(set(SCALINGS))],
        "max_onehot": [Interval(Integral, 1, None, closed="left"), None],
        "categorical": ["array-like"],
        "numeric": ["array-like"],
        "datetime": ["array-like"],
        "mlp_params": [dict, None],
        "random_state": ["random_state"],
        "time_budget": [Real, None],  # > 0: checked in _validate_params, with the fix
        "cv": [Interval(Integral, 2, MAX_FOLDS, closed="both"), StrOptions({"auto"}), None],
    }
    task = "classification"

    def __init__(self, hidden_layer_sizes=(256, 256), activation="relu", ensemble=ENSEMBLE,
                 alpha=1e-4, learning_rate_init=1e-3, batch_size="auto", max_iter=None,
                 n_iter_no_change=None, early_stopping=True, validation_fraction=0.1,
                 dtype="float32", scaling="robust", max_onehot=50, categorical=(),
                 numeric=(), datetime=(), mlp_params=None, random_state=None,
                 time_budget=None, cv="auto"):  # fmt: skip
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.ensemble = ensemble
        self.alpha = alpha
        self.learning_rate_init = learning_rate_init
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.dtype = dtype
        self.scaling = scaling
        self.max_onehot = max_onehot
        self.categorical = categorical
        self.numeric = numeric
        self.datetime = datetime
        self.mlp_params = mlp_params
        self.random_state = random_state
        self.time_budget = time_budget
        self.cv = cv

    # ------------------------------------------------------------------ fitting

    def _validate_params(self) -> None:
        """scikit-learn's checks of the parameters, then ``time_budget``'s: > 0, and a
        solver whose fit can continue."""
        super()._validate_params()
        budget = self.time_budget
        if budget is not None and self.cv not in (None, "auto"):
            raise ValueError(f"time_budget={budget!r} trains one set of rows in rungs; "
                             f"cv={self.cv!r} cross-fits folds. Use cv='auto' or None with a "
                             "time budget, or drop time_budget.")  # fmt: skip
        if budget is None:
            return
        check_positive("time_budget", budget, "time_budget=60 (seconds of training; None: "
                       "no limit)")  # fmt: skip
        mlp = self.mlp_params or {}
        if mlp.get("solver") == "lbfgs" and mlp.get("optimizer") is None:
            raise ValueError(f"time_budget={budget!r} trains in rungs that continue each "
                             "other, which solver='lbfgs' cannot (L-BFGS keeps no state "
                             "between fits); use solver='adam' or 'sgd', or "
                             "time_budget=None.")  # fmt: skip

    def member_params(self) -> dict:
        """Keyword arguments of each member (before :func:`table_params` fills in what
        depends on the table's size)."""
        h = self.hidden_layer_sizes
        seed = self.random_state
        return {"hidden_layer_sizes": tuple(int(v) for v in (h if np.iterable(h) else [h])),
                "activation": self.activation, "alpha": float(self.alpha),
                "learning_rate_init": float(self.learning_rate_init),
                "batch_size": self.batch_size, "max_iter": self.max_iter,
                "n_iter_no_change": self.n_iter_no_change,
                "early_stopping": bool(self.early_stopping),
                "validation_fraction": float(self.validation_fraction), "dtype": self.dtype,
                "random_state": None if seed is None else int(np.random.RandomState(seed)
                                                              .randint(2**31 - 1))
                if not isinstance(seed, Integral) else int(seed),
                **(self.mlp_params or {})}  # fmt: skip

    def fit(self, X, y) -> TableModel:
        """Fit on a DataFrame (or array) X of shape (n, n_columns) and targets y (n,)."""
        self._validate_params()
        df = self._frame(X, reset=True)
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the target "
                             "y is None.")  # fmt: skip
        y = column_or_1d(np.asarray(y, dtype=None if self.task == "classification" else
                                    np.float64), warn=True)  # fmt: skip
        if len(df) < 2:
            raise ValueError(f"{type(self).__name__} needs at least 2 rows to learn from; got "
                             f"n_samples = {len(df)}.")  # fmt: skip
        if len(y) != len(df):
            raise ValueError(f"X has {len(df)} rows but y has {len(y)} values; give one "
                             "target per row.")  # fmt: skip
        import pandas as pd

        frame = df.assign(**{_TARGET: pd.Series(y, index=df.index)})
        schema, _ = infer_schema(frame, _TARGET, None, tuple(self.categorical),
                                 tuple(self.numeric), tuple(df.columns),
                                 tuple(self.datetime))  # fmt: skip
        encoded, kind, classes = self._targets(frame[_TARGET])
        seed = self.member_params()["random_state"] or 0
        Xt, pre, schema = fit_preprocessor(schema, df, encoded, self.max_onehot, seed,
                                           self.scaling, kind)  # fmt: skip
        self._fit_encoded(Xt, encoded, pre, schema, "y", classes, None, None, None, None)
        return self

    def fit_prepared(self, table: PreparedTable, target: str, *, devices: int | None = None,
                     progress: Callable[[int, float], None] | None = None,
                     ) -> TableModel:  # fmt: skip
        """Fit on a table ``jaxmlp train`` has split and preprocessed (its preprocessor and
        schema become the model's), watching the validation rows after every epoch;
        ``progress(epochs_done, loss)`` after every chunk of epochs. Returns self."""
        self._validate_params()
        split = table.split
        features = table.schema.features
        self.n_features_in_ = len(features)
        self.feature_names_in_ = np.asarray(features, dtype=object)
        same = split.meta.get("out_of_fold")  # its validation part: the training rows again
        self._fit_encoded(split.X_train, split.y_train, table.preprocessor, table.schema,
                          target, table.classes, None if same else split.X_test,
                          None if same else split.y_test, devices, progress)  # fmt: skip
        return self

    def _fit_encoded(self, Xt, y, pre, schema: Schema, target: str, classes, X_val, y_val,
                     devices, progress) -> None:  # fmt: skip
        regression = self.task == "regression"
        mean, scale = 0.0, 1.0
        if regression:
            mean, scale = float(np.mean(y)), float(np.std(y))
            scale = scale if scale > 0 else 1.0
            y = (y - mean) / scale
            y_val = None if y_val is None else (y_val - mean) / scale
        given, note = early_stopping_rows(self.member_params(), len(Xt))
        params = table_params(given, len(Xt))
        if X_val is not None:
            X_val = np.asarray(X_val, Xt.dtype)
        budget = None if self.time_budget is None else float(self.time_budget)
        k = resolve_cv(self.cv, int(self.ensemble), len(Xt), budget)
        folds, fold_note = (None, None) if k is None else make_folds(
            k, y, regression, int(params.get("random_state") or 0), classes)  # fmt: skip
        fitted = fit_members(params, regression, int(self.ensemble), Xt, y, X_val, y_val,
                             devices, progress, time_budget=budget, folds=folds)  # fmt: skip
        self.estimator_, self.preprocessor_, self.schema_ = fitted.estimator, pre, schema
        self.target_, self.target_mean_, self.target_scale_ = target, mean, scale
        self.info_: dict = {}
        self.fit_notes_: list[str] = [n for n in (note, fold_note) if n] + fitted.notes
        self.cv_folds_ = folds
        oof: tuple[Any, float | None] = (None, None) if folds is None else oof_scored(
            fitted.estimator, Xt, y, folds, regression, mean, scale)  # fmt: skip
        self.oof_predictions_, self.oof_score_ = oof
        self.fit_time_s_, self.eval_curves_ = fitted.fit_time_s, fitted.curves
        self.n_iter_ = max(int(m.n_iter_) for m in self.members)  # the longest member's epochs
        if not regression:
            self.classes_ = np.asarray(classes)

    def _targets(self, y) -> tuple[np.ndarray, str, Any]:
        raise NotImplementedError  # (the classifier's and the regressor's)

    # ------------------------------------------------------------------ predicting

    def _frame(self, X, reset: bool):
        """X as a DataFrame of named columns: a DataFrame's own (str), an array's
        ``x0..x{d-1}``; checks the columns against those seen in fit."""
        import pandas as pd

        if isinstance(X, pd.DataFrame):
            X = X.set_axis([str(c) for c in X.columns], axis=1)
            if reset:
                validate_data(self, X, reset=True, skip_check_array=True)
            else:
                check_is_fitted(self)
                self.check_columns(X)  # by name, any order, extra columns ignored
            return X
        X = check_array(X, dtype="numeric", ensure_all_finite="allow-nan")
        if not reset:
            check_is_fitted(self)
        validate_data(self, X, reset=reset, skip_check_array=True)
        names = getattr(self, "feature_names_in_", None) if not reset else None
        names = [f"x{i}" for i in range(X.shape[1])] if names is None else list(names)
        return pd.DataFrame(X, columns=names)  # columns in the order fit saw them

    def encode_features(self, X) -> np.ndarray:
        """Preprocessed features of the rows of X, shape (n_rows, n_encoded), float32."""
        df = self._frame(X, reset=False)
        return np.asarray(self.preprocessor_.transform(clean_features(df, self.schema_)),
                          np.float32)  # fmt: skip

    def check_columns(self, df) -> list[str]:
        """Raise :class:`TableError` for missing feature columns; return notes about
        extra columns (ignored) and unseen categories (encoded as all zeros)."""
        check_is_fitted(self)
        schema = self.schema_
        notes = []
        extra = [c for c in df.columns if c not in schema.features and c != self.target_]
        if extra:
            notes.append(f"ignored column(s) the model does not use: {', '.join(map(str, extra))}")
        clean = clean_features(df, schema)  # raises for missing / mistyped columns
        encoder = self.preprocessor_.named_transformers_["categorical"][-1]  # one-hot
        target = self.preprocessor_.named_transformers_["target"]
        encoders = [*zip(schema.onehot, getattr(encoder, "categories_", []), strict=False),
                    *zip(schema.target_encoded,
                         getattr(target[1], "categories_", []), strict=False)]  # fmt: skip
        for c, known in encoders:
            unseen = sorted(set(clean[c].dropna()) - set(known.tolist()))
            if unseen:
                notes.append(f"column '{c}' has categories unseen in training (treated as "
                             f"unknown): {', '.join(map(str, unseen[:5]))}")  # fmt: skip
        return notes

    def predict_values(self, Xt: np.ndarray) -> np.ndarray:
        """A regressor's predictions in the target's units for preprocessed rows Xt of
        shape (n, n_encoded); shape (n,), float64."""
        z = np.asarray(self.estimator_.predict(Xt), np.float64).reshape(len(Xt))
        return z * self.target_scale_ + self.target_mean_

    # ------------------------------------------------------------------ the model folder's names

    @property
    def regression(self) -> bool:
        return self.task == "regression"

    @property
    def members(self) -> list:
        """The fitted networks: an ensemble's members, or the one estimator."""
        return list(getattr(self.estimator_, "estimators_", [self.estimator_]))

    @property
    def estimator(self) -> Any:
        return self.estimator_

    @property
    def preprocessor(self) -> Any:
        return self.preprocessor_

    @property
    def schema(self) -> Schema:
        return self.schema_

    @property
    def target(self) -> str:
        return self.target_

    @property
    def target_mean(self) -> float:
        return self.target_mean_

    @property
    def target_scale(self) -> float:
        return self.target_scale_

    @property
    def classes(self) -> np.ndarray | None:
        return getattr(self, "classes_", None)

    @property
    def info(self) -> dict:
        """Training metrics and data summary kept with the model (JSON-able)."""
        return self.info_

    @info.setter
    def info(self, value: dict) -> None:
        self.info_ = value

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # imputed (median, most frequent)
        tags.input_tags.string = True  # text columns of a DataFrame
        tags.input_tags.categorical = True
        tags.non_deterministic = False
        return tags
