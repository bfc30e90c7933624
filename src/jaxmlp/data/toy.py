"""Data sets: the tutorial's two-circles split and the TensorFlow-Playground toy sets.

Every generator is deterministic given ``seed`` (numpy's ``RandomState``, as
scikit-learn uses) and needs no network. :func:`tutorial_split` is SPEC §1 exactly.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from jaxmlp.core.validation import check_fraction, check_nonnegative

__all__ = ["DATASETS", "Split", "make_dataset", "tutorial_split"]


@dataclasses.dataclass(frozen=True)
class Split:
    """A train/test split of a classification data set.

    Attributes
    ----------
    X_train : ndarray of shape (n_train, n_features), float32
    y_train : ndarray of shape (n_train,), int32 class indices in ``[0, n_classes)``
    X_test : ndarray of shape (n_test, n_features), float32
    y_test : ndarray of shape (n_test,), int32
    meta : dict
        How the split was made (data set name, parameters), JSON-serialisable.
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    meta: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def n_features(self) -> int:
        return int(self.X_train.shape[1])

    @property
    def n_classes(self) -> int:
        return int(max(self.y_train.max(initial=0), self.y_test.max(initial=0)) + 1)

    def points(self) -> dict[str, np.ndarray]:
        """The points as a table for plotting (2-D data sets).

        Returns
        -------
        dict with columns ``x``, ``y`` (float, shape (n,)), ``label`` (int, shape (n,))
        and ``set`` (str, ``'train'`` or ``'test'``, shape (n,)), train rows first.
        """
        X = np.concatenate([self.X_train, self.X_test])
        return {
            "x": X[:, 0],
            "y": X[:, 1] if X.shape[1] > 1 else np.zeros(len(X)),
            "label": np.concatenate([self.y_train, self.y_test]),
            "set": np.array(["train"] * len(self.X_train) + ["test"] * len(self.X_test)),
        }


def _circles(n: int, noise: float, rng: np.random.RandomState) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import make_circles

    return make_circles(n_samples=n, noise=noise, factor=0.5, random_state=rng)


def _moons(n: int, noise: float, rng: np.random.RandomState) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import make_moons

    return make_moons(n_samples=n, noise=noise, random_state=rng)


def _xor(n: int, noise: float, rng: np.random.RandomState) -> tuple[np.ndarray, np.ndarray]:
    # Uniform on [-1, 1]^2 kept a little away from the axes (as the Playground does);
    # the label is the sign of x*y of the clean point, noise is added afterwards.
    X = rng.uniform(-1.0, 1.0, size=(n, 2))
    X += np.where(X >= 0, 0.05, -0.05)
    y = (X[:, 0] * X[:, 1] >= 0).astype(np.int64)
    return X + noise * rng.normal(size=X.shape), y


def _spiral(n: int, noise: float, rng: np.random.RandomState) -> tuple[np.ndarray, np.ndarray]:
    # Two interleaved arms, each turning 1.75 times around the origin.
    y = np.arange(n) % 2
    r = (np.arange(n) // 2) / max(1, (n - 1) // 2)
    t = 1.75 * 2 * math.pi * r + math.pi * y
    X = np.stack([r * np.sin(t), r * np.cos(t)], axis=1)
    return X + noise * rng.normal(size=X.shape), y


def _gaussian(n: int, noise: float, rng: np.random.RandomState) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import make_blobs

    return make_blobs(
        n_samples=n, centers=[[1.0, 1.0], [-1.0, -1.0]], cluster_std=0.4 + noise, random_state=rng
    )


# Name -> generator(n_samples, noise, rng) -> (X of shape (n, 2), y of shape (n,)).
DATASETS: dict[str, Callable[..., tuple[np.ndarray, np.ndarray]]] = {
    "circles": _circles,
    "moons": _moons,
    "xor": _xor,
    "spiral": _spiral,
    "gaussian": _gaussian,
}


def make_dataset(
    name: str = "circles",
    *,
    n_samples: int = 200,
    noise: float = 0.2,
    seed: int = 1337,
    test_size: float = 0.3,
    split_seed: int = 42,
    standardize: bool = True,
) -> Split:
    """Generate a 2-D toy data set and split it as the tutorial does.

    Parameters
    ----------
    name : {'circles', 'moons', 'xor', 'spiral', 'gaussian'}
    n_samples : int
        Total number of points (>= 4), before the split.
    noise : float
        Standard deviation of the Gaussian noise on the points (>= 0).
    seed : int
        Seed of the generator; equal seeds give identical data.
    test_size : float
        Fraction of points held out, in (0, 1).
    split_seed : int
        ``random_state`` of ``train_test_split``.
    standardize : bool
        Scale features with a ``StandardScaler`` fitted on all points, as the tutorial does.

    Returns
    -------
    Split
    """
    if name not in DATASETS:
        valid = ", ".join(map(repr, DATASETS))
        raise ValueError(f"Unknown dataset {name!r}. Valid datasets: {valid}.")
    if isinstance(n_samples, bool) or not isinstance(n_samples, int) or n_samples < 4:
        raise ValueError(f"n_samples must be an integer >= 4, got {n_samples!r}.")
    check_nonnegative("noise", noise, "0.2")
    check_fraction("test_size", test_size, "0.3")
    n_test = math.ceil(test_size * n_samples)
    if n_test < 1 or n_samples - n_test < 2:
        raise ValueError(
            f"test_size={test_size} leaves {n_samples - n_test} training and {n_test} test "
            f"points of n_samples={n_samples}; use more samples or a test_size nearer 0.3."
        )
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    X, y = DATASETS[name](n_samples, float(noise), np.random.RandomState(seed))
    if standardize:
        X = StandardScaler().fit_transform(X)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=test_size, random_state=split_seed
    )
    meta = {
        "dataset": name,
        "n_samples": n_samples,
        "noise": float(noise),
        "seed": seed,
        "test_size": float(test_size),
        "split_seed": split_seed,
        "standardize": standardize,
    }
    return Split(
        X_train.astype(np.float32),
        y_train.astype(np.int32),
        X_test.astype(np.float32),
        y_test.astype(np.int32),
        meta,
    )


def tutorial_split() -> Split:
    """SPEC §1: ``make_circles(200, noise=0.2, factor=0.5, random_state=1337)``, standardised,
    split 70/30 with ``random_state=42`` (140 train, 60 test)."""
    return make_dataset("circles", n_samples=200, noise=0.2, seed=1337, test_size=0.3)
