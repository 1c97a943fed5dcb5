"""`isbnet::BallQuery`: every case of the conformance table on every implementation."""

from __future__ import annotations

from pathlib import Path

import pytest
from _conformance_cases import BQ, CASES, Case
from _conformance_checks import check
from _conformance_impls import IMPLS, Impl


@pytest.mark.parametrize("impl", IMPLS[BQ], ids=lambda i: i.name)
@pytest.mark.parametrize("case", CASES[BQ], ids=lambda c: c.name)
def test_conformance(case: Case, impl: Impl, request: pytest.FixtureRequest) -> None:
    golden = request.getfixturevalue("golden_dir") if case.fixture else None
    check(case, impl, golden)


def test_official_cases_carry_their_recorded_parameters(golden_dir: Path) -> None:
    """The table's radius / n_sample of each official case are those the fixture was recorded with."""
    from _conformance_cases import official_index

    index = official_index(golden_dir)
    for case in (c for c in CASES[BQ] if c.fixture):
        key = case.name.removeprefix("official_")
        assert f"({case.attrs['radius']}, {case.attrs['n_sample']}," in index[key], case.name
