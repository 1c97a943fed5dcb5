"""`isbnet::FarthestPointSample`: every case of the conformance table on every implementation."""

from __future__ import annotations

from pathlib import Path

import pytest
from _conformance_cases import CASES, FPS, Case
from _conformance_checks import check
from _conformance_impls import IMPLS, Impl


@pytest.mark.parametrize("impl", IMPLS[FPS], ids=lambda i: i.name)
@pytest.mark.parametrize("case", CASES[FPS], ids=lambda c: c.name)
def test_conformance(case: Case, impl: Impl, request: pytest.FixtureRequest) -> None:
    golden = request.getfixturevalue("golden_dir") if case.fixture else None
    check(case, impl, golden)


def test_official_cases_carry_their_recorded_parameters(golden_dir: Path) -> None:
    """The table's variant / n_sample of each official case are those the fixture was recorded with."""
    from _conformance_cases import official_index

    index = official_index(golden_dir)
    for case in (c for c in CASES[FPS] if c.fixture):
        key = case.name.removeprefix("official_")
        variant = "isbnet" if "furthestsampling_batchflat" in index[key] else "pointnet2"
        assert case.attrs["variant"] == variant, case.name
        assert f"m={case.attrs['n_sample']}" in index[key], case.name
