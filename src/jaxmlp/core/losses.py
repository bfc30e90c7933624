"""Per-sample losses and correctness for the two output kinds, and the L2 penalty.

- ``'softmax'``: one logit per class, targets are class indices of shape (n,);
  the loss is the cross-entropy of ``log_softmax(logits)`` at the true class.
- ``'logistic'``: one logit per output, targets are 0/1 of shape (n, k) (binary: k = 1,
  multi-label: k labels); the loss is the binary cross-entropy summed over outputs, as
  scikit-learn's ``binary_log_loss`` (computed from logits, without clipping).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

__all__ = ["LOSSES", "correct", "l1_penalty", "l2_penalty", "per_sample_loss"]

LOSSES = ("softmax", "logistic")


def per_sample_loss(kind: str, logits: jax.Array, targets: jax.Array) -> jax.Array:
    """Loss of each sample.

    Parameters
    ----------
    kind : {'softmax', 'logistic'}
    logits : jax.Array of shape (n, k)
    targets : jax.Array
        Shape (n,) int class indices for 'softmax'; shape (n, k) in {0, 1} for 'logistic'.

    Returns
    -------
    jax.Array of shape (n,)
    """
    if kind == "softmax":
        logp = jax.nn.log_softmax(logits)
        return -jnp.take_along_axis(logp, targets[:, None], axis=1)[:, 0]
    # -[y log s(z) + (1 - y) log(1 - s(z))] = softplus(z) - y z, summed over outputs
    return jnp.sum(jax.nn.softplus(logits) - targets * logits, axis=1)


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
