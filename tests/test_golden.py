"""SPEC §8: the tutorial's printed numbers, reproduced by the engine and by `jaxmlp demo`."""

import numpy as np
import pytest

from jaxmlp import TrainConfig, fit
from jaxmlp.workflows.demo import eval_lines, fit_baseline

# epoch -> (test loss, test accuracy %), SPEC §8
GOLDEN_EVAL = {1: (0.7327, 45.00), 51: (0.5264, 76.67), 101: (0.3540, 83.33),
               151: (0.3364, 83.33), 201: (0.3303, 83.33)}  # fmt: skip
GOLDEN_FINAL = dict(train_loss=0.28353, test_loss=0.32795, train_acc=0.87857, test_acc=0.83333)


@pytest.fixture(scope="module")
def result(tutorial):
    split, net, opt = tutorial
    return fit(net, opt, split, TrainConfig(epochs=250))


def test_split_is_the_tutorials(tutorial):
    split = tutorial[0]
    assert split.X_train.shape == (140, 2) and split.X_test.shape == (60, 2)
    assert np.bincount(split.y_train).tolist() == [66, 74]
    assert np.bincount(split.y_test).tolist() == [34, 26]


@pytest.mark.parametrize("epoch", sorted(GOLDEN_EVAL))
def test_eval_lines_match_golden(result, epoch):
    loss, acc = GOLDEN_EVAL[epoch]
    i = epoch - 1
    assert result.history.epoch[i] == epoch
    assert abs(result.history.test_loss[i] - loss) < 1e-3
    assert round(float(result.history.test_acc[i]) * 100, 2) == acc


def test_printed_lines_are_the_tutorials(result):
    expected = [f"eval_epoch: {e}, loss: {lo:.4f}, accuracy: {a:.2f}"
                for e, (lo, a) in sorted(GOLDEN_EVAL.items())]  # fmt: skip
    assert eval_lines(result.history) == expected


def test_final_metrics_match_golden(result):
    h = result.history
    assert h.epoch[-1] == 250
    assert abs(h.train_loss[-1] - GOLDEN_FINAL["train_loss"]) < 1e-3
    assert abs(h.test_loss[-1] - GOLDEN_FINAL["test_loss"]) < 1e-3
    # accuracies are counts over 140 and 60 points: exact
    assert round(float(h.train_acc[-1]) * 140) == 123  # 0.87857
    assert round(float(h.test_acc[-1]) * 60) == 50  # 0.83333


def test_sklearn_baseline_matches_spec(tutorial):
    base = fit_baseline(tutorial[0])
    assert round(base.test_acc * 60) == 50  # SPEC §3: 0.8333 with random_state=0
