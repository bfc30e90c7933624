"""How an epoch's rows are ordered and cut into mini-batches, inside the compiled program.

``N`` rows are held, of which the first ``n`` are real (the rest is zero-weight padding
for compile reuse). An epoch visits the real rows in a random order, in batches of
``b = min(B, n)`` rows placed in ``B`` fixed slots; the last batch may be ragged (its
empty slots are masked), so every epoch has the same shapes and no second program.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

__all__ = ["batch_mask", "batch_rows", "epoch_batches", "epoch_order", "pad_order"]


def epoch_order(key: jax.Array, n: jax.Array, N: int, shuffle: bool = True) -> jax.Array:
    """Visiting order of one epoch: the ``n`` real rows (shuffled) first, then padding.

    Returns
    -------
    jax.Array of shape (N,), int32
    """
    rows = jnp.arange(N, dtype=jnp.int32)
    if not shuffle:
        return rows
    # float32 draws whatever the training precision: a float64 fit visits the rows in the
    # same order as a float32 fit of the same seed (both tell the same story)
    u = jax.random.uniform(key, (N,), jnp.float32)
    return jnp.argsort(jnp.where(rows < n, u, 2.0)).astype(jnp.int32)


def pad_order(order: jax.Array, B: int) -> jax.Array:
    """The epoch's order with B trailing slots, so every batch slice stays in bounds."""
    return jnp.concatenate([order, jnp.zeros(B, jnp.int32)])


def batch_mask(j, b, B: int, n) -> jax.Array:
    """Which of the ``B`` slots of batch ``j`` (real size ``b``) hold a real row; (B,) bool."""
    pos = jnp.arange(B, dtype=jnp.int32)
    return (pos < b) & (j * b + pos < n)


def batch_rows(padded: jax.Array, j, b, B: int, n) -> tuple[jax.Array, jax.Array]:
    """Rows of batch ``j`` of size ``b`` (<= B slots) from the padded order (see
    :func:`pad_order`): (idx of shape (B,), mask (B,))."""
    return jax.lax.dynamic_slice(padded, (j * b,), (B,)), batch_mask(j, b, B, n)


def epoch_batches(
    key: jax.Array, n: int, batch_size: int, N: int | None = None, shuffle: bool = True
) -> tuple[jax.Array, jax.Array]:
    """All mini-batches of one epoch, exactly as the engine forms them.

    Parameters
    ----------
    key : jax.Array
        The epoch's shuffling key.
    n : int
        Number of real rows.
    batch_size : int
        Batch slot size ``B``; the real batch size is ``b = min(B, n)``.
    N : int, optional
        Padded number of rows (default ``n``).
    shuffle : bool

    Returns
    -------
    idx : jax.Array of shape (ceil(n / b), B), int32
    mask : jax.Array of shape (ceil(n / b), B), bool
        1 for a real row in the batch, 0 for an empty slot.
    """
    N = n if N is None else N
    b = min(batch_size, n)
    order = pad_order(epoch_order(key, jnp.asarray(n), N, shuffle), batch_size)
    batches = [batch_rows(order, j, b, batch_size, n) for j in range(-(-n // b))]
    return jnp.stack([i for i, _ in batches]), jnp.stack([m for _, m in batches])
