"""Preprocessing steps of `isbnet.preprocess` not covered by the golden case."""

from __future__ import annotations

import math

import numpy as np
import pytest

from isbnet_trt.isbnet.preprocess import ROTATION_CHUNK_ROWS, TEST_ROTATION, rotate_for_test


@pytest.mark.parametrize(
    "n", [1, ROTATION_CHUNK_ROWS - 1, ROTATION_CHUNK_ROWS + 1, 3 * ROTATION_CHUNK_ROWS + 5]
)
def test_test_rotation_in_chunks_is_one_matmul(n):
    """`rotate_for_test` calls `np.matmul` per block of rows (to keep BLAS single-threaded):
    the result must be the one-call `np.matmul`, bit for bit."""
    coords = np.random.default_rng(n).standard_normal((n, 3)) * 4
    c, s = math.cos(TEST_ROTATION), math.sin(TEST_ROTATION)
    m = np.matmul(np.eye(3), [[c, s, 0], [-s, c, 0], [0, 0, 1]])
    assert np.array_equal(rotate_for_test(coords), np.matmul(coords, m))
