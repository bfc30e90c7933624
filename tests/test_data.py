"""Toy data sets: shapes, labels, determinism by seed, the tutorial split, bad input."""

import numpy as np
import pytest
from sklearn.datasets import make_circles
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from jaxmlp.data import DATASETS, make_dataset, tutorial_split


def test_tutorial_split_is_spec_section_1():
    X, y = make_circles(n_samples=200, noise=0.2, factor=0.5, random_state=1337)
    X = StandardScaler().fit_transform(X)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, random_state=42)
    split = tutorial_split()
    np.testing.assert_array_equal(split.X_train, X_tr.astype(np.float32))
    np.testing.assert_array_equal(split.X_test, X_te.astype(np.float32))
    np.testing.assert_array_equal(split.y_train, y_tr)
    np.testing.assert_array_equal(split.y_test, y_te)
    assert split.X_train.dtype == np.float32 and split.y_train.dtype == np.int32


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_each_dataset_is_deterministic_by_seed(name):
    a = make_dataset(name, n_samples=120, noise=0.1, seed=3)
    b = make_dataset(name, n_samples=120, noise=0.1, seed=3)
    c = make_dataset(name, n_samples=120, noise=0.1, seed=4)
    for field in ("X_train", "y_train", "X_test", "y_test"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    assert not np.array_equal(a.X_train, c.X_train)


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_each_dataset_shapes_labels_and_balance(name):
    split = make_dataset(name, n_samples=200, noise=0.1, seed=0, test_size=0.25)
    assert split.X_train.shape == (150, 2) and split.X_test.shape == (50, 2)
    y = np.concatenate([split.y_train, split.y_test])
    assert set(np.unique(y)) == {0, 1}
    assert 0.4 <= y.mean() <= 0.6  # both classes well represented
    X = np.concatenate([split.X_train, split.X_test])
    np.testing.assert_allclose(X.mean(0), 0, atol=1e-5)  # standardised on all points
    np.testing.assert_allclose(X.std(0), 1, atol=1e-4)
    assert split.n_classes == 2 and split.n_features == 2


def test_noise_zero_xor_labels_are_quadrants():
    split = make_dataset("xor", n_samples=100, noise=0.0, standardize=False)
    X = np.concatenate([split.X_train, split.X_test])
    y = np.concatenate([split.y_train, split.y_test])
    np.testing.assert_array_equal(y, (X[:, 0] * X[:, 1] >= 0).astype(int))


def test_points_table():
    split = tutorial_split()
    t = split.points()
    assert len(t["x"]) == len(t["label"]) == len(t["set"]) == 200
    assert (t["set"] == "train").sum() == 140 and (t["set"] == "test").sum() == 60


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "swirl"}, r"Unknown dataset 'swirl'. Valid datasets: 'circles', 'moons'"),
        ({"n_samples": 0}, r"n_samples must be an integer >= 4, got 0"),
        ({"noise": -1.0}, r"noise must be >= 0, got -1.0; e.g. noise=0.2"),
        ({"test_size": 1.5}, r"test_size must be a fraction in \(0, 1\), got 1.5"),
        ({"n_samples": 4, "test_size": 0.9}, r"leaves 0 training and 4 test points"),
    ],
)
def test_bad_dataset_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_dataset(**kwargs)
