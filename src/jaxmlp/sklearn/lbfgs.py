"""scikit-learn's ``solver='lbfgs'``: scipy's L-BFGS-B, called exactly as scikit-learn calls
it, on the engine's compiled objective and gradient.

L-BFGS-B's results depend on its memory, its line search (Moré-Thuente) and its stopping
rules (projected gradient <= ``tol``, relative reduction below ``factr * eps``,
``max_iter`` iterations, ``max_fun`` evaluations); rather than re-implement them, jaxmlp
hands scipy the same starting point (scikit-learn's initial weights, packed in
scikit-learn's order) and a function that returns the objective and its gradient from one
compiled JAX program (:func:`jaxmlp.core.epoch.value_and_grad`). Each evaluation is one
host round trip (~0.1 ms plus the computation); iterations, final loss and weights follow
scikit-learn's to float round-off, and so do its convergence warnings.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import optax
import scipy.optimize
from sklearn.utils.fixes import _get_additional_lbfgs_options_dict
from sklearn.utils.optimize import _check_optimize_result

from jaxmlp.core.epoch import evaluate, value_and_grad
from jaxmlp.core.program import Data, HostData, Hyper, Program, constant_optimizer, precision
from jaxmlp.sklearn.state import coefs_from_params, params_from_coefs

if TYPE_CHECKING:
    from jaxmlp.sklearn.classifier import MLPClassifier

__all__ = ["NO_STEPS", "fit_lbfgs"]

# the Program's optimizer for an L-BFGS fit: the engine only evaluates, scipy steps
NO_STEPS = constant_optimizer(optax.identity())


def _pack(arrays: list[np.ndarray]) -> np.ndarray:
    """scikit-learn's ``_pack``: every coefficient matrix, then every intercept, raveled."""
    return np.concatenate([np.asarray(a, np.float64).ravel() for a in arrays])


def _unpack(x: np.ndarray, shapes: list[tuple[int, ...]], dtype: Any) -> list[np.ndarray]:
    out, start = [], 0
    for shape in shapes:
        size = int(np.prod(shape))
        out.append(x[start : start + size].reshape(shape).astype(dtype))
        start += size
    return out


def fit_lbfgs(est: MLPClassifier, program: Program, hyper: Hyper, data: HostData,
              evals: tuple[HostData, ...], n_inputs: int,
              callback: Callable[[int, float], None] | None = None) -> None:  # fmt: skip
    """Train ``est`` from its current weights with scipy's L-BFGS-B and store the result
    (``coefs_``, ``intercepts_``, ``loss_``, ``n_iter_``; warnings as scikit-learn's).

    ``evals`` are evaluated after every iteration (``eval_curves_``); ``callback(iterations,
    loss)`` is called after every iteration too."""
    dtype = np.dtype(data.X.dtype)
    shapes = [c.shape for c in est._latest_coefs] + [b.shape for b in est._latest_intercepts]
    n_layers, n_features = len(est._latest_coefs), est.n_features_in_

    def params_of(x: np.ndarray) -> list:
        parts = _unpack(x, shapes, dtype)
        return params_from_coefs(parts[:n_layers], parts[n_layers:], False, dtype, n_inputs)

    curves: list[np.ndarray] = []
    last = [np.nan]  # the latest objective value
    iterations = [0]
    with precision(dtype):
        rows: Data = data.device()
        eval_rows = tuple(e.device() for e in evals)

        def loss_and_grad(x: np.ndarray) -> tuple[float, np.ndarray]:
            value, grads = value_and_grad(program, hyper, params_of(x), rows)
            coefs, intercepts = coefs_from_params(grads, n_features)
            last[0] = float(value)
            return last[0], _pack(coefs + intercepts)

        def after_iteration(x: np.ndarray) -> None:
            iterations[0] += 1
            if eval_rows:
                curves.append(np.asarray(evaluate(program, hyper, params_of(x), eval_rows)))
            if callback is not None:
                callback(iterations[0], last[0])

        options = {
            "maxfun": est.max_fun,
            "maxiter": est.max_iter,
            "gtol": est.tol,
            **_get_additional_lbfgs_options_dict("iprint", 1 if est.verbose else -1),
        }
        result = scipy.optimize.minimize(
            loss_and_grad, _pack(est._latest_coefs + est._latest_intercepts),
            method="L-BFGS-B", jac=True, options=options,
            callback=after_iteration if eval_rows or callback else None,
        )  # fmt: skip
    _store(est, result, shapes, n_layers, dtype)
    if eval_rows:
        est.eval_curves_ = np.stack(curves) if curves else np.zeros((0, len(evals), 2))


def _store(est: MLPClassifier, result: Any, shapes: list, n_layers: int, dtype: Any) -> None:
    est.n_iter_ = _check_optimize_result("lbfgs", result, est.max_iter)
    est.loss_ = float(result.fun)
    parts = _unpack(result.x, shapes, dtype)
    est.coefs_, est.intercepts_ = parts[:n_layers], parts[n_layers:]
    est._latest_coefs, est._latest_intercepts = est.coefs_, est.intercepts_
    est._engine_state = None
    est.stop_training_ = bool(result.success)
    if not all(np.isfinite(a).all() for a in parts):
        raise ValueError(
            "Solver produced non-finite parameter weights. The input data may contain "
            "large values and need to be preprocessed."
        )
