"""The estimator settings of ``jaxmlp train``: flags, a TOML ``--config`` file and
scikit-learn's own parameter checks, merged as defaults < config file < flags."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import typer

from jaxmlp.cli import options as opt
from jaxmlp.cli.common import fail

__all__ = ["ESTIMATOR_OPTIONS", "check_params", "estimator_params", "read_config"]

# estimator flags: CLI name -> (MLPClassifier parameter, converter); also the TOML keys
ESTIMATOR_OPTIONS = {
    "hidden": ("hidden_layer_sizes", None),
    "activation": ("activation", str),
    "solver": ("solver", str),
    "alpha": ("alpha", float),
    "lr": ("learning_rate_init", float),
    "learning_rate": ("learning_rate", str),
    "max_iter": ("max_iter", int),
    "batch_size": ("batch_size", None),
    "momentum": ("momentum", float),
    "early_stopping": ("early_stopping", bool),
    "n_iter_no_change": ("n_iter_no_change", int),
    "tol": ("tol", float),
    "dropout": ("dropout", float),
    "class_weight": ("class_weight", None),
    "random_state": ("random_state", int),
    "dtype": ("dtype", None),
}


def read_config(path: Path) -> dict[str, Any]:
    try:
        config = tomllib.loads(path.read_text())
    except FileNotFoundError:
        fail(f"Config file '{path}' does not exist.")
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        fail(f"Config file '{path}' is not valid TOML: {e}.")
    section = config.get("model", config)
    unknown = sorted(set(section) - set(ESTIMATOR_OPTIONS))
    if unknown:
        fail(f"Config file '{path}' has unknown key(s) {', '.join(unknown)}. Known keys: "
             f"{', '.join(sorted(ESTIMATOR_OPTIONS))}.")  # fmt: skip
    return dict(section)


def estimator_params(ctx: typer.Context, given: dict[str, Any], config: dict) -> dict:
    """Defaults < config file < flags given on the command line."""
    params: dict[str, Any] = {}
    for name, (param, convert) in ESTIMATOR_OPTIONS.items():
        source = ctx.get_parameter_source(name)
        if source is not None and source.name == "COMMANDLINE":
            value = given[name]
        elif name in config:
            value = config[name]
            if name == "hidden":
                value = opt.parse_hidden(",".join(map(str, value)) if isinstance(value, list)
                                         else str(value))  # fmt: skip
            elif name == "batch_size":
                value = opt.batch_size(str(value))
        else:
            value = given[name]
        if value is None and name == "class_weight":
            continue
        params[param] = convert(value) if convert and value is not None else value
    params["hidden_layer_sizes"] = tuple(params["hidden_layer_sizes"])
    return params


def check_params(params: dict) -> None:
    """Refuse settings scikit-learn's checks refuse, naming the parameter."""
    from sklearn.utils._param_validation import InvalidParameterError

    from jaxmlp.sklearn.classifier import checked_classifier

    try:
        checked_classifier(**params)
    except InvalidParameterError as e:
        fail(_in_flag_words(str(e)))


def _in_flag_words(message: str) -> str:
    """scikit-learn's "The 'activation' parameter of MLPClassifier must be a str among
    {...}. Got 'foo' instead." as the flag's: "--activation 'foo': must be a str among
    gelu, identity, ... (set by the flag or --config's activation)", the choices sorted."""
    import re

    found = re.match(r"The '(\w+)' parameter of \w+ must be (.*)\. Got (.*) instead\.$",
                     message, re.S)  # fmt: skip
    if found is None:
        return f"{message} (set by a flag or --config)."
    param, rule, got = found.groups()
    name = next((n for n, (p, _) in ESTIMATOR_OPTIONS.items() if p == param), param)
    rule = re.sub(r"\{([^{}]*)\}", lambda m: ", ".join(sorted(
        v.strip().strip("'") for v in m.group(1).split(","))), rule)  # fmt: skip
    # what a command line cannot give (a callable, a dict, None) is no choice to offer
    rule = re.sub(r"an instance of 'dict', | or a callable| or None", "", rule)
    flag = "--" + name.replace("_", "-")
    return f"{flag} {got}: must be {rule} (set by {flag} or --config's {name})."
