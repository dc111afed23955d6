"""Random matrices (Part II): the number of outliers a finite-rank signal pulls out of the bulk."""

import numpy as np
import pytest

from lmtheory.theory import random_matrix as rm


def test_outlier_count_matches_the_spectrum_of_a_sampled_spiked_matrix():
    """Independent check: sample W = Z + sqrt(n) sum theta_i u_i v_i^T and count eigenvalues of W^T W / n that sit
    clearly above the bulk edge (1 + sqrt q)^2; spikes far from the threshold on either side."""
    rng = np.random.default_rng(0)
    rows, cols = 800, 400
    thetas = np.array([0.4, 0.6, 1.5, 2.5])                         # threshold (1/2)^(1/4) = 0.84
    u = np.linalg.qr(rng.standard_normal((rows, len(thetas))))[0]
    v = np.linalg.qr(rng.standard_normal((cols, len(thetas))))[0]
    w = rng.standard_normal((rows, cols)) + np.sqrt(rows) * (u * thetas) @ v.T
    eigs = np.linalg.eigvalsh(w.T @ w / rows)
    edge = rm.mp_edges(ratio=cols / rows)[1]
    assert int(np.sum(eigs > edge + 0.3)) == rm.outlier_count(thetas, ratio=cols / rows) == 2


@pytest.mark.parametrize("theta", [[np.nan], [-1.0], [[1.0, 2.0]]])
def test_outlier_count_rejects_bad_strengths(theta):
    with pytest.raises(ValueError, match="theta"):
        rm.outlier_count(theta, ratio=0.5)


def test_outlier_count_rejects_bad_ratio():
    with pytest.raises(ValueError, match="ratio"):
        rm.outlier_count([1.0], ratio=-0.5)
