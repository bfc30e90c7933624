"""One playground model: a tab's points, network and training state on the real engine.

A :class:`Run` trains with the engine's one compiled program (:func:`jaxmlp.core.loop.train`)
in steps of a few epochs, and evaluates every neuron on a grid over the plane. The inputs
are always the seven TF Playground features, those switched off set to zero (and their
first-layer weights zero, which then get zero gradients and stay zero): toggling a feature
compiles nothing. The learning rate and the regularisation rate are traced numbers, so
changing them compiles nothing either; one program is compiled per architecture
(layers, activation, optimizer, regularisation kind, batch size, output kind).

Binary problems use scikit-learn's layout (one logistic output unit), more classes a
softmax with cross-entropy, so a trained model exports as a :class:`jaxmlp.MLPClassifier`.
TF Playground's regression problems (``reg-plane``, ``reg-gauss``) train one identity
output on half the squared error -- :class:`jaxmlp.MLPRegressor`'s loss -- and export as
one; their surfaces carry the value ``v`` in [-1, 1] as the two "probabilities"
``((1 - v) / 2, (1 + v) / 2)``, which the page colours orange (-1) to blue (+1) as TF does.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxmlp.core import optimizers
from jaxmlp.core.loop import train
from jaxmlp.core.many import init_states, train_many
from jaxmlp.core.nn import ACTIVATIONS, mlp
from jaxmlp.core.program import DivergenceError, Hyper, Program, bucket, init_state, make_data
from jaxmlp.data.playground import (
    EXTENT,
    FEATURES,
    REGRESSION,
    features,
    generate,
    split_points,
)
from jaxmlp.sklearn.ensemble import uncertainty
from jaxmlp.workflows.playground_settings import Settings

__all__ = ["GRID", "NEURON_GRID", "Points", "Run", "Surfaces"]

GRID = 50  # output heatmap: GRID x GRID points over [-6, 6]^2
NEURON_GRID = 20  # every neuron's heatmap
CHUNK = 16  # epochs per call of the compiled program (fewer run when asked)
ALL = tuple(FEATURES)


@dataclasses.dataclass
class Points:
    """A tab's points: ``X`` (n, 2) float32 in the plane, ``y`` (n,) int32 class indices
    (float32 values in [-1, 1] for a regression problem), ``train`` (n,) bool, and the
    label of each class (none for regression)."""

    X: np.ndarray
    y: np.ndarray
    train: np.ndarray
    classes: list[str]

    @classmethod
    def generated(cls, s: Settings) -> Points:
        X, y = generate(s.dataset, s.n_points, s.noise, s.seed)
        classes = [] if s.dataset in REGRESSION else ["0", "1"]
        return cls(X, y, split_points(len(y), s.train_percent, s.seed), classes)

    @classmethod
    def own(cls, X: np.ndarray, y: np.ndarray, classes: list[str], s: Settings) -> Points:
        return cls(X, y, split_points(len(y), s.train_percent, s.seed), classes)


class Surfaces(NamedTuple):
    """Values over the plane (row 0 at the top, x2 = +6).

    Attributes
    ----------
    output : ndarray of shape (n_classes, GRID, GRID)
        Class probabilities.
    neurons : list of ndarray, one (width, NEURON_GRID, NEURON_GRID) per hidden layer
        Each hidden neuron's activation.
    """

    output: np.ndarray
    neurons: list[np.ndarray]


def grid_points(size: int) -> np.ndarray:
    """The ``size`` x ``size`` grid over the plane, shape (size * size, 2), row-major
    from the top-left corner (x1 = -6, x2 = +6)."""
    xs = np.linspace(-EXTENT, EXTENT, size, dtype=np.float32)
    a, b = np.meshgrid(xs, xs[::-1])
    return np.stack([a.ravel(), b.ravel()], axis=1)


@functools.partial(jax.jit, static_argnums=0)
def _layers(activation: str, params: Any, X: jax.Array) -> tuple[jax.Array, list[jax.Array]]:
    """The output logits (n, k) and every hidden layer's activations [(n, h), ...]."""
    f = ACTIVATIONS[activation]
    dense = [p for p in params if len(p) == 2]
    hidden = []
    x = X
    for i, (W, b) in enumerate(dense):
        x = x @ W + b.reshape(1, -1)
        if i < len(dense) - 1:
            x = f(x)
            hidden.append(x)
    return x, hidden


def _probabilities(logits: np.ndarray, regression: bool = False) -> np.ndarray:
    """(n, k) class probabilities from (n, 1) logistic or (n, k) softmax logits; for
    regression the (n, 1) values v as ``((1 - v) / 2, (1 + v) / 2)`` clipped to [0, 1]."""
    if regression:
        v = np.clip(logits[:, 0], -1.0, 1.0)
        return np.stack([(1.0 - v) / 2, (1.0 + v) / 2], axis=1)
    if logits.shape[1] == 1:
        p = 1.0 / (1.0 + np.exp(-logits[:, 0]))
        return np.stack([1.0 - p, p], axis=1)
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


class Run:
    """A tab's model: settings, points, engine state and history.

    Parameters
    ----------
    settings : Settings
    own : Points, optional
        The tab's own points (``settings.dataset == 'custom'``).
    """

    def __init__(self, settings: Settings, own: Points | None = None):
        self.settings = settings
        self.own = own
        self._points()
        self.reset()

    # ------------------------------------------------------------------ data and model
    def _points(self) -> None:
        s = self.settings
        if s.dataset == "custom" and self.own is not None:
            self.points = Points.own(self.own.X, self.own.y, self.own.classes, s)
        else:
            self.points = Points.generated(s)
        self.regression = s.dataset in REGRESSION and self.points.y.dtype.kind == "f"
        self.n_classes = max(2, len(self.points.classes))
        self._inputs()

    def _inputs(self) -> None:
        """The model's inputs for the features switched on: the data and the grids."""
        mask = np.array([f in self.settings.features for f in ALL], np.float32)
        self.mask = mask
        # the grids' inputs, computed once per feature set (not once per frame)
        self._grid = features(grid_points(GRID), ALL) * mask
        self._small_grid = features(grid_points(NEURON_GRID), ALL) * mask
        Xf = features(self.points.X, ALL) * mask
        tr = self.points.train
        Y = self._targets(self.points.y)
        self.train_data = make_data(Xf[tr], Y[tr], N=bucket(int(tr.sum())))
        self.test_data = make_data(Xf[~tr], Y[~tr], N=bucket(int((~tr).sum())))

    def _targets(self, y: np.ndarray) -> np.ndarray:
        return y.astype(np.float32)[:, None] if self.n_classes == 2 else y

    @property
    def loss(self) -> str:
        """The engine's output kind: 'squared', 'logistic' or 'softmax'."""
        if self.regression:
            return "squared"
        return "logistic" if self.n_classes == 2 else "softmax"

    def _network(self):
        s = self.settings
        outputs = 1 if self.n_classes == 2 else self.n_classes
        return mlp(s.hidden, s.activation, n_outputs=outputs)

    def _program(self) -> Program:
        s = self.settings
        n_train = int(self.points.train.sum())
        return Program(
            apply=self._network().apply,
            optimizer=optimizers.factory(s.optimizer),
            loss=self.loss,
            batch=None if s.batch_size >= n_train else s.batch_size,
            n_evals=2,
            l2=s.regularization == "l2",
            l1=s.regularization == "l1",
            train_eval=True,
            chunk=CHUNK,
        )

    def hyper(self) -> Hyper:
        """The traced numbers: TF Playground's regularisation rate is per step, the
        engine's ``alpha`` per sample, hence the batch size factor."""
        s = self.settings
        per_batch = min(s.batch_size, int(self.points.train.sum()))
        return Hyper(learning_rate=float(s.learning_rate), alpha=float(s.reg_rate * per_batch),
                     momentum=0.9)  # fmt: skip

    def initial_params(self, seed: int) -> Any:
        """Initial weights for ``seed``; rows of switched-off features zero."""
        params = self._network().init(jax.random.PRNGKey(seed), (-1, len(ALL)))[1]
        W, b = params[0]
        return [(W * jnp.asarray(self.mask)[:, None], b), *params[1:]]

    def reset(self) -> None:
        """Fresh weights (from the seed) and no history; nothing is compiled again."""
        self.program = self._program()
        self.state = init_state(self.program, self.hyper(), self.initial_params(self.settings.seed),
                                self.settings.seed)  # fmt: skip
        self.history: list[tuple[int, float, float, float, float]] = []
        self.diverged_at = 0

    def configure(self, settings: Settings, own: Points | None = None) -> str:
        """Apply new settings: 'data' (points regenerated, weights reset), 'model'
        (weights reset), 'rates' (training goes on with the new rates) or 'none'."""
        old, self.settings = self.settings, settings
        if own is not None:
            self.own = own
        if own is not None or settings.data_key() != old.data_key():
            self._points()
            self.reset()
            return "data"
        if settings.model_key() != old.model_key():
            self._inputs()  # the feature mask
            self.reset()
            return "model"
        return "rates" if settings != old else "none"

    # ------------------------------------------------------------------ training
    @property
    def epoch(self) -> int:
        return int(self.state.epoch)

    def step(self, epochs: int) -> None:
        """Train ``epochs`` more epochs (nothing once diverged)."""
        if self.diverged_at:
            return
        try:
            result = train(self.program, self.hyper(), self.state, self.train_data,
                           (self.train_data, self.test_data), max_epochs=epochs)  # fmt: skip
        except DivergenceError as e:
            self.diverged_at = e.epoch
            return
        self.state = result.state
        start = self.epoch - len(result.metrics)
        for i, m in enumerate(result.metrics):
            self.history.append((start + i + 1, float(m[0, 0]), float(m[1, 0]), float(m[0, 1]),
                                 float(m[1, 1])))  # fmt: skip

    # ------------------------------------------------------------------ what the page draws
    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Class probabilities of shape (n, n_classes) at points ``X`` of shape (n, 2)
        (for regression the values' colour pair, see the module docstring)."""
        return _probabilities(self.predict_values(X), self.regression)

    def predict_values(self, X: np.ndarray) -> np.ndarray:
        """The output layer (logits; values for regression) at points ``X`` of shape
        (n, 2): shape (n, n_outputs), float64."""
        logits, _ = _layers(self.settings.activation, self.state.params,
                            features(X, ALL) * self.mask)  # fmt: skip
        return np.asarray(logits, np.float64)

    def surfaces(self, params: Any = None) -> Surfaces:
        """Class probabilities on the output grid and every neuron's map."""
        params = self.state.params if params is None else params
        act = self.settings.activation
        logits, _ = _layers(act, params, self._grid)
        _, hidden = _layers(act, params, self._small_grid)
        g = NEURON_GRID
        maps = [np.asarray(h).T.reshape(-1, g, g) for h in hidden]
        probs = _probabilities(np.asarray(logits, np.float64), self.regression)
        return Surfaces(probs.T.reshape(-1, GRID, GRID).astype(np.float32), maps)

    def weights(self) -> list[np.ndarray]:
        """Each Dense layer's weights (n_in, n_out); the first layer's rows are the
        features switched on, in the table's order."""
        dense = [np.asarray(W) for W, _ in (p for p in self.state.params if len(p) == 2)]
        on = [i for i, f in enumerate(ALL) if f in self.settings.features]
        return [dense[0][on], *dense[1:]]

    def ensemble(self, n: int, epochs: int) -> tuple[np.ndarray, np.ndarray]:
        """``n`` models of these settings from seeds ``seed .. seed + n - 1`` trained for
        ``epochs`` in one vectorised program: the mean class probabilities (k, GRID, GRID)
        and the members' disagreement as the mutual information (GRID, GRID) in [0, 1]
        (regression: the mean value's colour pair and the members' standard deviation)."""
        seeds = self.settings.seed + np.arange(n)
        params = [self.initial_params(int(s)) for s in seeds]
        stacked = jax.tree_util.tree_map(lambda *a: jnp.stack(a), *params)
        hypers = jax.tree_util.tree_map(lambda v: jnp.full((n,), v, jnp.float32), self.hyper())
        states = init_states(self.program, hypers, stacked, seeds)
        result = train_many(self.program, hypers, states, self.train_data,
                            (self.train_data, self.test_data), max_epochs=epochs)  # fmt: skip
        logits = jax.vmap(lambda p: _layers(self.settings.activation, p, self._grid)[0])(
            result.state.params
        )  # (n, cells, outputs): every member's map in one call
        if self.regression:  # the members' mean value, and their spread (std, at most 1)
            V = np.asarray(logits, np.float64)[..., 0]
            mean = _probabilities(V.mean(axis=0)[:, None], True)
            return mean.T.reshape(-1, GRID, GRID), np.minimum(V.std(axis=0), 1.0).reshape(
                GRID, GRID)  # fmt: skip
        P = np.stack([_probabilities(z) for z in np.asarray(logits, np.float64)])
        mean = P.mean(axis=0)
        mi = uncertainty(P).mutual_information / np.log(mean.shape[1])
        return mean.T.reshape(-1, GRID, GRID), mi.reshape(GRID, GRID)
