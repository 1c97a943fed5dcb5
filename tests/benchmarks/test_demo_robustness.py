"""benchmarks/demo_robustness.py: every mode makes a labelled room (no AP asserted)."""

from __future__ import annotations

import numpy as np
import pytest

from isbnet_trt.benchmarks import demo_robustness


@pytest.mark.parametrize("mode", list(demo_robustness.MODES))
def test_mode_makes_a_labelled_room(mode):
    assert "," not in mode  # --modes is comma-separated
    make_room, change = demo_robustness.MODES[mode]
    room = change(make_room(500, 12_000), np.random.default_rng(0))
    n = len(room.points)
    assert room.points.shape[1] == 6 and n > 1000 and np.isfinite(room.points).all()
    assert room.superpoints.shape == room.semantic_labels.shape == room.instance_labels.shape == (n,)
    assert (room.instance_labels >= 0).any()
