"""Part I additions to lmtheory.theory.conservation: the conserved translation charge, against plain GD."""

import numpy as np
import pytest

from lmtheory.theory import conservation as cons


def softmax_gd_charges(lr, steps, seed=0):
    """sum_c w_c and sum_c b_c of a softmax layer along GD (numpy, independent of the book's code)."""
    rng = np.random.default_rng(seed)
    x, labels = rng.normal(size=(12, 4)), rng.integers(0, 3, size=12)
    w, b = rng.normal(size=(3, 4)), rng.normal(size=3)
    onehot = np.eye(3)[labels]
    charges = []
    for _ in range(steps + 1):
        charges.append(np.append(w.sum(0), b.sum()))
        z = x @ w.T + b
        p = np.exp(z - z.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        delta = (p - onehot) / len(x)                  # d(mean cross-entropy)/dz
        w, b = w - lr * delta.T @ x, b - lr * delta.sum(0)
    return np.array(charges)


@pytest.mark.parametrize("lr", [0.1, 5.0])
def test_conserved_trajectory_matches_gd_on_a_softmax_layer(lr):
    measured = softmax_gd_charges(lr, steps=15)
    predicted = cons.conserved_trajectory(measured[0], steps=15)
    assert predicted.shape == measured.shape
    np.testing.assert_allclose(measured, predicted, atol=1e-12)


def test_conserved_trajectory_validates():
    with pytest.raises(ValueError, match="steps"):
        cons.conserved_trajectory([1.0], steps=-1)
    with pytest.raises(ValueError, match="steps"):
        cons.conserved_trajectory([1.0], steps=1.5)
    with pytest.raises(ValueError, match="initial"):
        cons.conserved_trajectory([np.nan], steps=1)
