"""The tutorial, end to end (SPEC §1-§8), as a function that returns its results.

:func:`run_demo` makes the data, fits the scikit-learn baseline and the JAX model, and
returns everything the CLI prints and writes; it prints nothing and writes no file.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import time
from collections.abc import Callable
from typing import Any

import jax
import numpy as np

from jaxmlp.core.activations import check_activation
from jaxmlp.core.nn import Network, mlp
from jaxmlp.data import Split, make_dataset
from jaxmlp.workflows import baseline
from jaxmlp.workflows.fit import FitResult, History, TrainConfig, fit

__all__ = ["BaselineResult", "DemoConfig", "DemoResult", "eval_lines", "run_demo"]


@dataclasses.dataclass(frozen=True)
class DemoConfig:
    """Settings of ``jaxmlp demo``; the defaults are the tutorial's (SPEC)."""

    dataset: str = "circles"
    n_samples: int = 200
    noise: float = 0.2
    data_seed: int = 1337  # make_circles(random_state=1337)
    test_size: float = 0.3  # train_test_split(test_size=0.3, random_state=42)
    hidden: tuple[int, ...] = (64,)  # serial(Dense(64), Swish, Dense(2))
    activation: str = "swish"
    beta: float = 1.0  # swish(x) = x * sigmoid(beta * x)
    optimizer: str = "momentum"  # v = 0.9 v + g; w = w - 0.05 v
    lr: float = 0.05
    momentum: float = 0.9
    schedule: str = "constant"
    epochs: int = 250  # one full-batch step per epoch
    batch_size: int | None = None  # None: full batch (the tutorial's default)
    eval_every: int = 1
    seed: int = 0  # jax.random.PRNGKey(0)
    baseline: bool = True  # MLPClassifier(alpha=1, max_iter=1000, random_state=0)


@dataclasses.dataclass
class BaselineResult:
    """scikit-learn's ``MLPClassifier(alpha=1, max_iter=1000, random_state=0)`` on the split."""

    model: Any
    train_loss: float
    test_loss: float
    train_acc: float
    test_acc: float
    fit_time_s: float
    n_iter: int
    warnings: list[str]

    def proba1(self, X: np.ndarray) -> np.ndarray:
        """P(class 1) for points X of shape (n, n_features) -> (n,)."""
        return self.model.predict_proba(X)[:, 1]


@dataclasses.dataclass
class DemoResult:
    """Everything :func:`run_demo` computed."""

    config: DemoConfig
    split: Split
    network: Network
    fit: FitResult
    fit_time_s: float  # first call in this process, compilation included
    steady_fit_time_s: float | None  # a second, identical run (only when cheap)
    baseline: BaselineResult | None

    @property
    def history(self) -> History:
        return self.fit.history

    def proba(self, X: np.ndarray) -> np.ndarray:
        """softmax(logits) for X of shape (n, n_features) -> (n, n_classes)."""
        return np.asarray(_predict_proba(self.network.apply, self.fit.params, X))

    def proba1(self, X: np.ndarray) -> np.ndarray:
        """P(class 1) for X of shape (n, n_features) -> (n,)."""
        return self.proba(X)[:, 1]


@functools.partial(jax.jit, static_argnums=0)
def _predict_proba(apply_fn: Callable, params: Any, X: jax.Array) -> jax.Array:
    return jax.nn.softmax(apply_fn(params, X), axis=-1)


def fit_baseline(split: Split) -> BaselineResult:
    """Fit SPEC §3's scikit-learn baseline on the training split."""
    from sklearn.metrics import log_loss

    fitted = baseline.fit_baseline(split.X_train, split.y_train, alpha=1, max_iter=1000,
                                   random_state=0)  # fmt: skip
    clf = fitted.model
    labels = np.arange(split.n_classes)
    return BaselineResult(
        model=clf,
        train_loss=float(log_loss(split.y_train, clf.predict_proba(split.X_train), labels=labels)),
        test_loss=float(log_loss(split.y_test, clf.predict_proba(split.X_test), labels=labels)),
        train_acc=float(clf.score(split.X_train, split.y_train)),
        test_acc=float(clf.score(split.X_test, split.y_test)),
        fit_time_s=fitted.fit_time_s,
        n_iter=int(clf.n_iter_),
        warnings=fitted.warnings,
    )


def chunk_size(epochs: int, calls: int = 100) -> int:
    """Epochs per engine call so that a long run reports progress about ``calls`` times.

    Prefers a divisor of ``epochs`` (every call then reuses one compiled program).
    """
    target = max(1, math.ceil(epochs / calls))
    for c in range(target, min(epochs, 4 * target) + 1):
        if epochs % c == 0:
            return c
    return target


def run_demo(
    config: DemoConfig = DemoConfig(),
    *,
    progress: Callable[[int, History], None] | None = None,
    chunk_epochs: int | None = None,
) -> DemoResult:
    """Run the tutorial: data, baseline, JAX model, training.

    Parameters
    ----------
    config : DemoConfig
    progress : callable, optional
        ``progress(epochs_done, history_so_far)``, called between chunks of epochs.
    chunk_epochs : int, optional
        Epochs per engine call when ``progress`` is given (default: :func:`chunk_size`).

    Returns
    -------
    DemoResult

    Raises
    ------
    ValueError
        For an invalid setting (the message names it).
    jaxmlp.DivergenceError
        If training diverges.
    """
    check_activation(config.activation)  # an unknown name raises, listing the valid ones
    split = make_dataset(
        config.dataset,
        n_samples=config.n_samples,
        noise=config.noise,
        seed=config.data_seed,
        test_size=config.test_size,
    )
    network = mlp(config.hidden, config.activation, split.n_classes, config.beta)
    train_config = TrainConfig(config.epochs, config.batch_size, config.eval_every, config.seed)
    base = fit_baseline(split) if config.baseline else None
    if progress is not None and chunk_epochs is None:
        chunk_epochs = chunk_size(config.epochs)

    def train(chunks: int | None = None, callback: Callable | None = None) -> FitResult:
        # by name from the optimizer table: the numbers are traced, so another learning
        # rate or momentum reuses the compiled program
        return fit(network, config.optimizer, split, train_config, learning_rate=config.lr,
                   momentum=config.momentum, schedule=config.schedule, chunk_epochs=chunks,
                   callback=callback)  # fmt: skip

    t0 = time.perf_counter()
    result = train(chunk_epochs, progress)
    jax.block_until_ready(result.params)
    fit_time = time.perf_counter() - t0
    steady = None
    if fit_time < 1.0:  # cheap: time the compiled program once more, for a fair comparison
        t0 = time.perf_counter()
        jax.block_until_ready(train().params)
        steady = time.perf_counter() - t0
    return DemoResult(config, split, network, result, fit_time, steady, base)


def eval_lines(history: History, n_lines: int = 5) -> list[str]:
    """The tutorial's progress lines (SPEC §7), ``n_lines`` evenly spaced evaluations.

    With 250 evaluated epochs these are epochs 1, 51, 101, 151, 201::

        eval_epoch: 1, loss: 0.7327, accuracy: 45.00
    """
    step = max(1, math.ceil(len(history.epoch) / n_lines))
    return [
        f"eval_epoch: {history.epoch[i]}, loss: {history.test_loss[i]:.4f}, "
        f"accuracy: {history.test_acc[i] * 100:.2f}"
        for i in range(0, len(history.epoch), step)
    ]
