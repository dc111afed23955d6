"""Measurements on trained (or training) networks: small pure functions of parameters and data."""

from __future__ import annotations

import jax.numpy as jnp


def mode_strengths(product, left, right):
    """Strengths ``u_a = left[:, a]^T @ product @ right[:, a]`` of a linear map along given singular directions.

    ``product``: (out_dim, in_dim), e.g. a deep linear net's end-to-end map; ``left``: (out_dim, k);
    ``right``: (in_dim, k). Returns shape (k,).

    >>> import jax.numpy as jnp
    >>> mode_strengths(jnp.diag(jnp.array([3.0, 1.0])), jnp.eye(2), jnp.eye(2)).tolist()
    [3.0, 1.0]
    """
    if product.shape != (left.shape[0], right.shape[0]) or left.shape[1] != right.shape[1]:
        raise ValueError(f"shapes do not match: product {product.shape}, left {left.shape}, right {right.shape}")
    return jnp.einsum("ok,oi,ik->k", left, product, right)


def end_to_end(weights):
    """Product ``W_L ... W_1`` of a list of (fan_out, fan_in) weight matrices.

    >>> import jax.numpy as jnp
    >>> end_to_end([jnp.ones((2, 3)), 2 * jnp.ones((1, 2))]).tolist()
    [[4.0, 4.0, 4.0]]
    """
    if not weights:
        raise ValueError("end_to_end needs at least one weight matrix")
    out = weights[0]
    for w in weights[1:]:
        out = w @ out
    return out
