"""The one table of optimizers: a name to an optax factory whose numbers are traced.

Every optimizer is an ``optax.GradientTransformation``; jaxmlp never hand-writes one.
:data:`REGISTRY` maps each name to the optax function and to the
:class:`~jaxmlp.core.program.Hyper` fields that feed its arguments. :func:`factory` turns
a name (and a learning-rate schedule) into ``factory(hyper) -> transformation``, called
inside the compiled program, so a new learning rate, momentum or beta compiles nothing:
``jaxmlp demo``, :func:`jaxmlp.fit`, :func:`jaxmlp.fit_many` and ``jaxmlp sweep`` all
train through it. :func:`make_optimizer` gives the same transformation with fixed
numbers, for use with optax directly.

With fixed numbers (:func:`make_optimizer`) the result is the plain optax call, e.g.
``optax.adam(0.01, b1=0.9, b2=0.999, eps=1e-8)``.
The tutorial's ``optimizers.momentum(0.05, mass=0.9)`` (``v = 0.9 v + g; w = w - 0.05 v``)
is ``make_optimizer("momentum", 0.05, momentum=0.9)``, i.e. ``optax.sgd(0.05, momentum=0.9)``.

A new optimizer is one line in :data:`REGISTRY`. This module imports optax only when a
transformation is built, so the CLI can list the names without loading JAX.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from jaxmlp.core.validation import check_positive, check_rate

if TYPE_CHECKING:
    import optax

__all__ = [
    "OPTIMIZERS",
    "REGISTRY",
    "SCHEDULES",
    "Optimizer",
    "check_optimizer",
    "factory",
    "make_optimizer",
    "make_schedule",
]


@dataclasses.dataclass(frozen=True)
class Optimizer:
    """One optimizer of the table.

    Attributes
    ----------
    name : str
        What users write (``optimizer='adam'``, ``--optimizer adam``).
    optax : str
        The optax function, called as ``optax.<optax>(learning_rate, **arguments)``.
    hyper : tuple of (str, str)
        ``(optax argument, Hyper field)`` pairs: the traced numbers it takes.
    static : tuple of (str, object)
        Fixed arguments (e.g. ``('nesterov', True)``).
    description : str
        One line for help texts.
    """

    name: str
    optax: str
    hyper: tuple[tuple[str, str], ...] = ()
    static: tuple[tuple[str, Any], ...] = ()
    description: str = ""


_MOMENTUM = (("momentum", "momentum"),)
_ADAM = (("b1", "beta_1"), ("b2", "beta_2"), ("eps", "epsilon"))

REGISTRY: dict[str, Optimizer] = {
    o.name: o
    for o in (
        Optimizer("sgd", "sgd", (), (), "plain gradient descent"),
        Optimizer("momentum", "sgd", _MOMENTUM, (), "heavy-ball momentum (the tutorial's)"),
        Optimizer("nesterov", "sgd", _MOMENTUM, (("nesterov", True),), "Nesterov momentum"),
        Optimizer("adam", "adam", _ADAM, (), "Adam"),
        Optimizer("adamw", "adamw", (*_ADAM, ("weight_decay", "weight_decay")), (), "AdamW"),
        Optimizer("rmsprop", "rmsprop", (("decay", "rms_decay"), ("eps", "epsilon")), (),
                  "RMSProp"),
    )
}  # fmt: skip
OPTIMIZERS = tuple(REGISTRY)
SCHEDULES = ("constant", "exponential", "cosine")


def check_optimizer(name: object) -> Optimizer:
    """The table entry of ``name``; an unknown name is a ValueError listing the valid ones."""
    if not isinstance(name, str) or name not in REGISTRY:
        raise ValueError(
            f"Unknown optimizer {name!r}. Valid optimizers: {', '.join(map(repr, REGISTRY))}."
        )
    return REGISTRY[name]


def _check_schedule(schedule: str, decay_steps: int | None, decay_rate: float) -> None:
    if schedule not in SCHEDULES:
        raise ValueError(
            f"Unknown schedule {schedule!r}. Valid schedules: {', '.join(map(repr, SCHEDULES))}."
        )
    if schedule != "constant" and (decay_steps is None or decay_steps <= 0):
        raise ValueError(
            f"schedule={schedule!r} needs decay_steps > 0 (the number of optimizer steps "
            f"to decay over), got {decay_steps!r}."
        )
    if schedule == "exponential":
        check_positive("decay_rate", decay_rate, "0.1")


def make_schedule(
    learning_rate: Any,
    schedule: str = "constant",
    *,
    decay_steps: int | None = None,
    decay_rate: float = 0.1,
) -> Any:
    """Build a learning-rate schedule.

    Parameters
    ----------
    learning_rate : float or traced scalar
        Initial (peak) step size, > 0.
    schedule : {'constant', 'exponential', 'cosine'}
        ``'exponential'``: ``lr * decay_rate ** (step / decay_steps)``;
        ``'cosine'``: cosine decay from ``lr`` to 0 over ``decay_steps``.
    decay_steps : int, optional
        Steps over which the schedule decays; required unless ``'constant'``.
        (:func:`jaxmlp.fit` and the CLI pass the total number of optimizer steps.)
    decay_rate : float
        Factor reached after ``decay_steps`` by the exponential schedule.

    Returns
    -------
    float, traced scalar or optax.Schedule
    """
    if isinstance(learning_rate, int | float):
        check_positive("learning_rate", learning_rate, "0.01")
    _check_schedule(schedule, decay_steps, decay_rate)
    if schedule == "constant":
        return float(learning_rate) if isinstance(learning_rate, int | float) else learning_rate
    import optax

    assert decay_steps is not None
    if schedule == "exponential":
        return optax.exponential_decay(learning_rate, int(decay_steps), float(decay_rate))
    return optax.cosine_decay_schedule(learning_rate, int(decay_steps))


@functools.lru_cache(maxsize=256)
def factory(
    name: str,
    schedule: str = "constant",
    decay_steps: int | None = None,
    decay_rate: float = 0.1,
) -> Callable[[Any], optax.GradientTransformation]:
    """``hyper -> optax transformation`` for optimizer ``name``: the numbers come from the
    (traced) :class:`~jaxmlp.core.program.Hyper`, the schedule's shape is fixed.

    Equal arguments return the same function, so the compiled programs keyed on it are
    reused.
    """
    entry = check_optimizer(name)
    _check_schedule(schedule, decay_steps, decay_rate)

    def make(hyper: Any) -> optax.GradientTransformation:
        import optax

        lr = make_schedule(hyper.learning_rate, schedule, decay_steps=decay_steps,
                           decay_rate=decay_rate)  # fmt: skip
        numbers = {arg: getattr(hyper, field) for arg, field in entry.hyper}
        # called inside the trace: the numbers are traced values closed over here (no
        # optax.inject_hyperparams, whose state would cost a few kernels per step)
        return getattr(optax, entry.optax)(lr, **numbers, **dict(entry.static))

    from jaxmlp.core.compiled import describe

    return describe(make, ("optimizer", name, schedule, decay_steps, decay_rate))


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

    The same transformation :func:`jaxmlp.fit` builds from the name inside its program,
    with these numbers fixed. Equal arguments return the same object, so compiled
    training programs are reused.

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
    check_optimizer(name)
    check_positive("learning_rate", learning_rate, "0.01")
    check_rate("momentum", momentum, "0.9")
    from jaxmlp.core.program import Hyper

    hyper = Hyper(learning_rate=float(learning_rate), momentum=float(momentum), beta_1=b1,
                  beta_2=b2, epsilon=eps, weight_decay=weight_decay,
                  rms_decay=rms_decay)  # fmt: skip
    return factory(name, schedule, decay_steps, decay_rate)(hyper)
