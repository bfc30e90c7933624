"""Optimizer names and learning-rate schedules, mapped onto optax.

Every optimizer is an ``optax.GradientTransformation``; jaxmlp never hand-writes one.
The tutorial's ``optimizers.momentum(0.05, mass=0.9)`` (``v = 0.9 v + g; w = w - 0.05 v``)
is ``make_optimizer("momentum", 0.05, momentum=0.9)``, i.e. ``optax.sgd(0.05, momentum=0.9)``.
"""

from __future__ import annotations

import functools
import math

import optax

__all__ = ["OPTIMIZERS", "SCHEDULES", "make_optimizer", "make_schedule"]

OPTIMIZERS = ("sgd", "momentum", "nesterov", "adam", "adamw", "rmsprop")
SCHEDULES = ("constant", "exponential", "cosine")


def _check_positive(name: str, value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise TypeError(f"{name} must be a finite number, got {value!r}.")
    if value <= 0:
        raise ValueError(f"{name} must be > 0, got {value!r}; e.g. {name}=0.01.")


def make_schedule(
    learning_rate: float,
    schedule: str = "constant",
    *,
    decay_steps: int | None = None,
    decay_rate: float = 0.1,
) -> optax.Schedule | float:
    """Build a learning-rate schedule.

    Parameters
    ----------
    learning_rate : float
        Initial (peak) step size, > 0.
    schedule : {'constant', 'exponential', 'cosine'}
        ``'exponential'``: ``lr * decay_rate ** (step / decay_steps)``;
        ``'cosine'``: cosine decay from ``lr`` to 0 over ``decay_steps``.
    decay_steps : int, optional
        Steps over which the schedule decays; required unless ``'constant'``.
        (The engine and the CLI pass the total number of optimizer steps.)
    decay_rate : float
        Factor reached after ``decay_steps`` by the exponential schedule.

    Returns
    -------
    float or optax.Schedule
    """
    _check_positive("learning_rate", learning_rate)
    if schedule == "constant":
        return float(learning_rate)
    if schedule not in SCHEDULES:
        raise ValueError(
            f"Unknown schedule {schedule!r}. Valid schedules: {', '.join(map(repr, SCHEDULES))}."
        )
    if decay_steps is None or decay_steps <= 0:
        raise ValueError(
            f"schedule={schedule!r} needs decay_steps > 0 (the number of optimizer steps "
            f"to decay over), got {decay_steps!r}."
        )
    if schedule == "exponential":
        _check_positive("decay_rate", decay_rate)
        return optax.exponential_decay(learning_rate, int(decay_steps), float(decay_rate))
    return optax.cosine_decay_schedule(learning_rate, int(decay_steps))


@functools.lru_cache(maxsize=256)
def make_optimizer(
    name: str = "momentum",
    learning_rate: float = 0.05,
    *,
    momentum: float = 0.9,
    schedule: str = "constant",
    decay_steps: int | None = None,
    decay_rate: float = 0.1,
    b1: float = 0.9,
    b2: float = 0.999,
    eps: float = 1e-8,
    weight_decay: float = 1e-4,
    rms_decay: float = 0.9,
) -> optax.GradientTransformation:
    """Map an optimizer name and its hyperparameters to an optax transformation.

    Equal arguments return the same object, so compiled training programs are reused.

    Parameters
    ----------
    name : {'sgd', 'momentum', 'nesterov', 'adam', 'adamw', 'rmsprop'}
        ``'sgd'`` is plain gradient descent; ``'momentum'`` heavy-ball momentum
        (the tutorial's); ``'nesterov'`` Nesterov momentum.
    learning_rate : float
        Step size (> 0), the peak of ``schedule``.
    momentum : float
        Momentum coefficient in [0, 1) for 'momentum' and 'nesterov' ('mass' in stax).
    schedule, decay_steps, decay_rate
        See :func:`make_schedule`.
    b1, b2, eps : float
        Adam/AdamW moment decay rates and epsilon (RMSProp uses ``eps`` too).
    weight_decay : float
        Decoupled weight decay of AdamW.
    rms_decay : float
        Decay of RMSProp's running mean of squared gradients.

    Returns
    -------
    optax.GradientTransformation
    """
    if name not in OPTIMIZERS:
        raise ValueError(
            f"Unknown optimizer {name!r}. Valid optimizers: {', '.join(map(repr, OPTIMIZERS))}."
        )
    if not 0.0 <= momentum < 1.0:
        raise ValueError(f"momentum must be in [0, 1), got {momentum!r}; e.g. momentum=0.9.")
    lr = make_schedule(learning_rate, schedule, decay_steps=decay_steps, decay_rate=decay_rate)
    if name == "sgd":
        return optax.sgd(lr)
    if name == "momentum":
        return optax.sgd(lr, momentum=momentum)
    if name == "nesterov":
        return optax.sgd(lr, momentum=momentum, nesterov=True)
    if name == "adam":
        return optax.adam(lr, b1=b1, b2=b2, eps=eps)
    if name == "adamw":
        return optax.adamw(lr, b1=b1, b2=b2, eps=eps, weight_decay=weight_decay)
    return optax.rmsprop(lr, decay=rms_decay, eps=eps)
