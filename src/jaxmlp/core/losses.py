"""Per-sample losses, the score of a set, and the L1/L2 penalties, for four output kinds.

Classification (the score is the weighted accuracy):

- ``'softmax'``: one logit per class, targets are class indices of shape (n,);
  the loss is the cross-entropy of ``log_softmax(logits)`` at the true class.
- ``'logistic'``: one logit per output, targets are 0/1 of shape (n, k) (binary: k = 1,
  multi-label: k labels); the loss is the binary cross-entropy summed over outputs, as
  scikit-learn's ``binary_log_loss`` (computed from logits, without clipping).

Regression (targets of shape (n, k); the score is R², averaged over outputs, as
scikit-learn's ``r2_score``):

- ``'squared'``: identity output; half the squared error, averaged over outputs, as
  scikit-learn's ``squared_loss`` (``0.5 * mean((y - z)**2)``). With several outputs
  scikit-learn's backpropagation differentiates the *sum* over outputs (its output delta
  is ``z - y`` whatever their number), so the gradient here is that of
  ``0.5 * sum((y - z)**2)`` while the value is the mean: both as scikit-learn has them.
- ``'poisson'``: exponential output (log link); half the Poisson deviance summed over
  outputs, as scikit-learn's ``poisson_loss`` (``y log(y / exp(z)) - y + exp(z)``).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

__all__ = ["LOSSES", "REGRESSION", "correct", "l1_penalty", "l2_penalty", "output",
           "per_sample_loss", "score"]  # fmt: skip

LOSSES = ("softmax", "logistic", "squared", "poisson")
REGRESSION = ("squared", "poisson")  # kinds whose score is R², not accuracy


def per_sample_loss(kind: str, logits: jax.Array, targets: jax.Array) -> jax.Array:
    """Loss of each sample.

    Parameters
    ----------
    kind : {'softmax', 'logistic', 'squared', 'poisson'}
    logits : jax.Array of shape (n, k)
    targets : jax.Array
        Shape (n,) int class indices for 'softmax'; shape (n, k) in {0, 1} for
        'logistic'; shape (n, k) real values for the regression kinds.

    Returns
    -------
    jax.Array of shape (n,)
    """
    if kind == "softmax":
        logp = jax.nn.log_softmax(logits)
        return -jnp.take_along_axis(logp, targets[:, None], axis=1)[:, 0]
    if kind == "squared":
        total = 0.5 * jnp.sum(jnp.square(targets - logits), axis=1)
        k = targets.shape[1]  # value: the mean over outputs; gradient: the sum's
        return total if k == 1 else total - jax.lax.stop_gradient(total * (1.0 - 1.0 / k))
    if kind == "poisson":  # y log y - y z - y + exp(z), with 0 log 0 = 0
        return jnp.sum(jax.scipy.special.xlogy(targets, targets) - targets * logits - targets
                       + jnp.exp(logits), axis=1)  # fmt: skip
    # -[y log s(z) + (1 - y) log(1 - s(z))] = softplus(z) - y z, summed over outputs
    return jnp.sum(jax.nn.softplus(logits) - targets * logits, axis=1)


def output(kind: str, logits: jax.Array) -> jax.Array:
    """What the model predicts from its logits, shape (n, k): class probabilities
    (softmax, sigmoid) or values (identity, exp)."""
    if kind == "softmax":
        return jax.nn.softmax(logits)
    if kind == "logistic":
        return jax.nn.sigmoid(logits)
    return jnp.exp(logits) if kind == "poisson" else logits


def score(kind: str, logits: jax.Array, targets: jax.Array, w: jax.Array,
          sw: jax.Array) -> jax.Array:  # fmt: skip
    """The weighted score of a set whose weights ``w`` (shape (n,)) sum to ``sw``: accuracy
    for classification, R² for regression (scikit-learn's ``r2_score`` with
    ``sample_weight``, averaged over outputs; an output with constant targets scores 1 if
    predicted exactly, else 0, as scikit-learn's ``force_finite``). A scalar."""
    if kind not in REGRESSION:
        return jnp.sum(w * correct(kind, logits, targets)) / sw
    pred = output(kind, logits)
    mean = jnp.sum(w[:, None] * targets, axis=0, keepdims=True) / sw
    ss_res = jnp.sum(w[:, None] * jnp.square(targets - pred), axis=0)
    ss_tot = jnp.sum(w[:, None] * jnp.square(targets - mean), axis=0)
    safe = jnp.where(ss_tot > 0, ss_tot, 1.0)
    r2 = jnp.where(ss_tot > 0, 1.0 - ss_res / safe, jnp.where(ss_res > 0, 0.0, 1.0))
    return jnp.mean(r2)


def correct(kind: str, logits: jax.Array, targets: jax.Array) -> jax.Array:
    """1.0 where the prediction is right (all labels right, for multi-label), else 0.0.

    Parameters
    ----------
    kind : {'softmax', 'logistic'}
    logits : jax.Array of shape (n, k)
    targets : jax.Array of shape (n,) or (n, k), as for :func:`per_sample_loss`

    Returns
    -------
    jax.Array of shape (n,), the dtype of ``logits``
    """
    if kind == "softmax":
        return (jnp.argmax(logits, axis=1).astype(targets.dtype) == targets).astype(logits.dtype)
    predicted = (logits > 0).astype(targets.dtype)
    return jnp.all(predicted == targets, axis=1).astype(logits.dtype)


def l2_penalty(params) -> jax.Array:
    """Sum of squared weights of every Dense layer (biases excluded), as scikit-learn's
    ``alpha`` term uses: ``sum_l ||W_l||_F^2``."""
    leaves = [w for w in jax.tree_util.tree_leaves(params) if w.ndim == 2]
    return sum((jnp.sum(jnp.square(w)) for w in leaves), start=jnp.zeros((), leaves[0].dtype))


def l1_penalty(params) -> jax.Array:
    """Sum of absolute weights of every Dense layer (biases excluded): ``sum_l |W_l|_1``.

    Written ``w * sign(w)`` so that its gradient at 0 is 0 (the subgradient TF Playground
    uses; ``jnp.abs`` has gradient 1 there): a weight that is exactly 0 stays 0."""
    leaves = [w for w in jax.tree_util.tree_leaves(params) if w.ndim == 2]
    return sum((jnp.sum(w * jnp.sign(w)) for w in leaves), start=jnp.zeros((), leaves[0].dtype))
