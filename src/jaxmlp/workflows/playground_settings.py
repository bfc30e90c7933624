"""The playground's settings: what a browser tab asks for, checked and clamped.

Every field has TF Playground's default (its ``state.ts``) where TF Playground has the
setting. A value out of range is clamped and the clamp is reported back to the page; a
value of the wrong kind is refused with a message naming the setting, the value and the
valid range.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from jaxmlp.data.playground import DATASETS, FEATURES

__all__ = [
    "ACTIVATIONS",
    "MAX_LAYERS",
    "MAX_NEURONS",
    "OPTIMIZERS",
    "REGULARIZATIONS",
    "Settings",
    "SettingsError",
    "settings_from",
]

MAX_LAYERS = 6
MAX_NEURONS = 64
ACTIVATIONS = ("tanh", "relu", "sigmoid", "identity", "swish", "gelu")
OPTIMIZERS = ("sgd", "momentum", "adam")
REGULARIZATIONS = ("none", "l1", "l2")


class SettingsError(ValueError):
    """A setting of the wrong kind (the message names it and the fix)."""


@dataclasses.dataclass(frozen=True)
class Settings:
    """One tab's configuration (TF Playground's defaults).

    ``dataset`` 'custom' means the tab's own points (uploaded or clicked); ``seed`` drives
    the data, the split, the initial weights and the shuffling, so equal settings give the
    same run.
    """

    dataset: str = "circle"
    noise: float = 0.0  # percent, 0-50
    train_percent: float = 50.0  # 10-90
    batch_size: int = 10  # 1-100
    n_points: int = 500
    seed: int = 1
    features: tuple[str, ...] = ("x1", "x2")
    hidden: tuple[int, ...] = (4, 2)
    activation: str = "tanh"
    optimizer: str = "sgd"
    learning_rate: float = 0.03
    regularization: str = "none"
    reg_rate: float = 0.0

    def model_key(self) -> tuple:
        """What a change of resets the weights (everything but the rates)."""
        return (self.data_key(), self.features, self.hidden, self.activation, self.optimizer,
                self.regularization, self.batch_size)  # fmt: skip

    def data_key(self) -> tuple:
        """What a change of regenerates the points."""
        return (self.dataset, self.noise, self.train_percent, self.n_points, self.seed)


# field -> (low, high) for the numbers that are clamped
_RANGES: dict[str, tuple[float, float]] = {
    "noise": (0, 50),
    "train_percent": (10, 90),
    "batch_size": (1, 100),
    "n_points": (20, 2000),
    "seed": (0, 2**31 - 1),
    "learning_rate": (1e-5, 10.0),
    "reg_rate": (0.0, 10.0),
}
_CHOICES: dict[str, tuple[str, ...]] = {
    "dataset": (*DATASETS, "custom"),
    "activation": ACTIVATIONS,
    "optimizer": OPTIMIZERS,
    "regularization": REGULARIZATIONS,
}


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        low, high = _RANGES[name]
        raise SettingsError(f"{name} must be a number from {low:g} to {high:g}, got {value!r}")
    return float(value)


def _clamp(name: str, value: Any, notes: list[str]) -> float:
    low, high = _RANGES[name]
    x = _number(name, value)
    if not low <= x <= high:
        notes.append(f"{name} {x:g} is out of range; using {min(max(x, low), high):g} "
                     f"(allowed {low:g} to {high:g})")  # fmt: skip
    return min(max(x, low), high)


def _hidden(value: Any, notes: list[str]) -> tuple[int, ...]:
    if not isinstance(value, list | tuple) or not all(
        isinstance(h, int) and not isinstance(h, bool) for h in value
    ):
        raise SettingsError(f"hidden must be a list of layer widths such as [4, 2], got {value!r}")
    if len(value) > MAX_LAYERS:
        notes.append(f"{len(value)} hidden layers asked for; the playground has up to "
                     f"{MAX_LAYERS}, using the first {MAX_LAYERS}")  # fmt: skip
    widths = []
    for h in value[:MAX_LAYERS]:
        if not 1 <= h <= MAX_NEURONS:
            notes.append(f"a layer of {h} neurons is out of range; using "
                         f"{min(max(h, 1), MAX_NEURONS)} (1 to {MAX_NEURONS})")  # fmt: skip
        widths.append(min(max(h, 1), MAX_NEURONS))
    return tuple(widths)


def _features(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or not all(isinstance(f, str) for f in value):
        raise SettingsError(f"features must be a list of names such as ['x1', 'x2'], "
                            f"got {value!r}")  # fmt: skip
    unknown = [f for f in value if f not in FEATURES]
    if unknown:
        raise SettingsError(f"unknown input feature {unknown[0]!r}; choose from "
                            f"{', '.join(FEATURES)}")  # fmt: skip
    chosen = tuple(f for f in FEATURES if f in value)  # the table's order, no duplicates
    if not chosen:
        raise SettingsError("at least one input feature must be on, e.g. ['x1', 'x2']")
    return chosen


def settings_from(raw: Any, base: Settings = Settings()) -> tuple[Settings, list[str]]:
    """``base`` updated by the fields of ``raw`` (a dict from the page), checked.

    Returns
    -------
    settings : Settings
    notes : list of str
        One line per clamped value, for the page to show.

    Raises
    ------
    SettingsError
        For an unknown field, a value of the wrong kind or an unknown choice.
    """
    if not isinstance(raw, dict):
        raise SettingsError(f"settings must be an object, got {type(raw).__name__}")
    fields = {f.name for f in dataclasses.fields(Settings)}
    unknown = sorted(set(raw) - fields)
    if unknown:
        raise SettingsError(f"unknown setting {unknown[0]!r}; valid: {', '.join(sorted(fields))}")
    notes: list[str] = []
    values: dict[str, Any] = {}
    for name, value in raw.items():
        if name in _CHOICES:
            if value not in _CHOICES[name]:
                raise SettingsError(f"{name} {value!r} is not one of {', '.join(_CHOICES[name])}")
            values[name] = value
        elif name in _RANGES:
            x = _clamp(name, value, notes)
            whole = name in ("batch_size", "n_points", "seed")
            values[name] = round(x) if whole else x
        elif name == "hidden":
            values[name] = _hidden(value, notes)
        else:  # features
            values[name] = _features(value)
    return dataclasses.replace(base, **values), notes
