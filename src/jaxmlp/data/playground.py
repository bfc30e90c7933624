"""The playground's data: TensorFlow Playground's generators, input features, and a user's
own points.

The generators follow TF Playground's ``dataset.ts``: points in ``[-6, 6]^2``, ``noise`` in
percent (0-50), labels 1 (blue) and 0 (orange; TF's -1). ``moons`` is scikit-learn's
``make_moons`` scaled to the same square. TF Playground's two regression problems,
``reg-plane`` and ``reg-gauss``, give values in [-1, 1] (orange -1 .. blue +1) instead of
labels. Every generator is deterministic given ``seed``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

__all__ = [
    "DATASETS",
    "EXTENT",
    "FEATURES",
    "MAX_POINTS",
    "REGRESSION",
    "features",
    "generate",
    "parse_points_csv",
    "split_points",
]

EXTENT = 6.0  # the square [-EXTENT, EXTENT]^2 the playground draws
MAX_POINTS = 5000  # a user's own points, at most (uploads and clicks)


def _circle(n: int, noise: float, rng: np.random.RandomState) -> tuple[np.ndarray, np.ndarray]:
    radius = 5.0
    half = n // 2
    r = np.concatenate([rng.uniform(0, radius * 0.5, half), rng.uniform(radius * 0.7, radius,
                                                                         n - half)])  # fmt: skip
    angle = rng.uniform(0, 2 * math.pi, n)
    X = np.stack([r * np.sin(angle), r * np.cos(angle)], axis=1)
    X += rng.uniform(-radius, radius, X.shape) * noise
    y = (np.hypot(X[:, 0], X[:, 1]) < radius * 0.5).astype(np.int32)  # label of the noisy point
    return X, y


def _xor(n: int, noise: float, rng: np.random.RandomState) -> tuple[np.ndarray, np.ndarray]:
    X = rng.uniform(-5, 5, (n, 2))
    X += np.where(X > 0, 0.3, -0.3)  # away from the axes
    X += rng.uniform(-5, 5, X.shape) * noise
    return X, (X[:, 0] * X[:, 1] >= 0).astype(np.int32)


def _gaussian(n: int, noise: float, rng: np.random.RandomState) -> tuple[np.ndarray, np.ndarray]:
    std = math.sqrt(0.5 + 3.5 * noise / 0.5)  # TF: variance 0.5 .. 4 for noise 0 .. 50%
    half = n // 2
    y = np.concatenate([np.ones(half, np.int32), np.zeros(n - half, np.int32)])
    centre = np.where(y[:, None] == 1, 2.0, -2.0)
    return centre + rng.normal(0, std, (n, 2)), y


def _spiral(n: int, noise: float, rng: np.random.RandomState) -> tuple[np.ndarray, np.ndarray]:
    half = n // 2
    arms = []
    for delta, label, m in ((0.0, 1, half), (math.pi, 0, n - half)):
        i = np.arange(m)
        r = i / m * 5
        t = 1.75 * i / m * 2 * math.pi + delta
        X = np.stack([r * np.sin(t), r * np.cos(t)], axis=1) + rng.uniform(-1, 1, (m, 2)) * noise
        arms.append((X, np.full(m, label, np.int32)))
    return np.concatenate([a[0] for a in arms]), np.concatenate([a[1] for a in arms])


def _moons(n: int, noise: float, rng: np.random.RandomState) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import make_moons

    X, y = make_moons(n_samples=n, noise=noise, random_state=rng)
    return (X - [0.5, 0.25]) * 3.0, y.astype(np.int32)


def _noisy_square(n: int, noise: float, rng: np.random.RandomState):
    """TF's regression points: uniform in [-6, 6]^2, and the noisy position the value is
    read at."""
    X = rng.uniform(-6, 6, (n, 2))
    return X, X + rng.uniform(-6, 6, (n, 2)) * noise


def _reg_plane(n: int, noise: float, rng: np.random.RandomState) -> tuple[np.ndarray, np.ndarray]:
    X, at = _noisy_square(n, noise, rng)
    return X, (at[:, 0] + at[:, 1]) / 10.0  # TF: linear -10..10 -> -1..1


# TF's six bumps: centre and sign; the value is the strongest bump's, falling linearly
# from 1 at the centre to 0 at distance 2
_BUMPS = ((-4, 2.5, 1), (0, 2.5, -1), (4, 2.5, 1), (-4, -2.5, -1), (0, -2.5, 1), (4, -2.5, -1))


def _reg_gauss(n: int, noise: float, rng: np.random.RandomState) -> tuple[np.ndarray, np.ndarray]:
    X, at = _noisy_square(n, noise, rng)
    value = np.zeros(n)
    for cx, cy, sign in _BUMPS:
        v = sign * np.clip(1 - np.hypot(at[:, 0] - cx, at[:, 1] - cy) / 2, 0, 1)
        value = np.where(np.abs(v) > np.abs(value), v, value)
    return X, value


# name -> generator(n_points, noise as a fraction (0-0.5), rng) -> (X (n, 2), y (n,) int32,
# or float values in [-1, 1] for REGRESSION)
DATASETS: dict[str, Callable[..., tuple[np.ndarray, np.ndarray]]] = {
    "circle": _circle,
    "xor": _xor,
    "gaussian": _gaussian,
    "spiral": _spiral,
    "moons": _moons,
    "reg-plane": _reg_plane,
    "reg-gauss": _reg_gauss,
}
REGRESSION = ("reg-plane", "reg-gauss")

# name -> f(x1, x2) of shape (n,): the input features (TF Playground's INPUTS)
FEATURES: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "x1": lambda a, b: a,
    "x2": lambda a, b: b,
    "x1^2": lambda a, b: a * a,
    "x2^2": lambda a, b: b * b,
    "x1*x2": lambda a, b: a * b,
    "sin(x1)": lambda a, b: np.sin(a),
    "sin(x2)": lambda a, b: np.sin(b),
}


def generate(name: str, n: int, noise_percent: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points of data set ``name``.

    Returns
    -------
    X : ndarray of shape (n, 2), float32, within about ``[-6, 6]``
    y : ndarray of shape (n,), int32 in {0, 1} (float32 in [-1, 1] for :data:`REGRESSION`)
    """
    X, y = DATASETS[name](n, noise_percent / 100.0, np.random.RandomState(seed))
    kind = np.float32 if name in REGRESSION else np.int32
    return np.clip(X, -EXTENT, EXTENT).astype(np.float32), y.astype(kind)


def split_points(n: int, train_percent: float, seed: int) -> np.ndarray:
    """A boolean training mask of shape (n,): ``train_percent`` of the points, shuffled
    with ``seed`` (at least one point on each side)."""
    n_train = min(max(1, round(n * train_percent / 100.0)), n - 1)
    order = np.random.RandomState(seed + 1).permutation(n)
    mask = np.zeros(n, bool)
    mask[order[:n_train]] = True
    return mask


def features(X: np.ndarray, names: tuple[str, ...]) -> np.ndarray:
    """The input columns ``names`` of points ``X`` of shape (n, 2): shape (n, len(names))."""
    a, b = X[:, 0], X[:, 1]
    return np.stack([FEATURES[name](a, b) for name in names], axis=1).astype(np.float32)


def parse_points_csv(text: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """A user's CSV: two numeric feature columns and a label column (the last one), with a
    header row. The points are scaled linearly into ``[-5, 5]^2`` (each axis on its own).

    Returns
    -------
    X : ndarray of shape (n, 2), float32
    y : ndarray of shape (n,), int32 class indices
    classes : list of str, the label of each class index

    Raises
    ------
    ValueError
        With a message naming the problem and the fix.
    """
    import csv
    import io

    rows = [r for r in csv.reader(io.StringIO(text)) if any(cell.strip() for cell in r)]
    if len(rows) < 2:
        raise ValueError("the CSV has no data rows; it needs a header and rows 'x1,x2,label'")
    header, body = rows[0], rows[1:]
    if len(header) != 3:
        raise ValueError(
            f"the CSV has {len(header)} columns ({', '.join(header)}); it needs exactly 3: "
            "two numeric features and a label, e.g. 'x1,x2,label'"
        )
    if len(body) > MAX_POINTS:
        raise ValueError(f"the CSV has {len(body)} rows; the playground takes up to {MAX_POINTS}")
    X = np.empty((len(body), 2))
    labels = []
    for i, row in enumerate(body, start=2):
        if len(row) != 3:
            raise ValueError(f"line {i} has {len(row)} fields, the header 3")
        for j in (0, 1):
            try:
                X[i - 2, j] = float(row[j])
            except ValueError:
                message = (f"line {i}: '{row[j][:40]}' in column '{header[j]}' is not a "
                           "number; the first two columns must be numeric")  # fmt: skip
                raise ValueError(message) from None
        labels.append(row[2].strip())
    if not np.isfinite(X).all():
        raise ValueError("the CSV holds an infinite or nan coordinate; remove that row")
    classes = sorted(set(labels))
    if len(classes) < 2:
        raise ValueError(f"the label column '{header[2]}' has one class ({classes[0]!r}); "
                         "a classifier needs at least two")  # fmt: skip
    if len(classes) > 10:
        raise ValueError(f"the label column '{header[2]}' has {len(classes)} classes; the "
                         "playground draws up to 10")  # fmt: skip
    lo, hi = X.min(axis=0), X.max(axis=0)
    X = (X - (lo + hi) / 2) / np.where(hi > lo, (hi - lo) / 10.0, 1.0)
    index = {c: k for k, c in enumerate(classes)}
    return X.astype(np.float32), np.array([index[v] for v in labels], np.int32), classes
