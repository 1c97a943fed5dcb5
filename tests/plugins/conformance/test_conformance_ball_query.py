"""`isbnet::BallQuery`: every case of the conformance table on every implementation."""

from __future__ import annotations

import pytest
from _conformance_cases import BQ, CASES, Case
from _conformance_checks import check
from _conformance_impls import IMPLS, Impl


@pytest.mark.parametrize("impl", IMPLS[BQ], ids=lambda i: i.name)
@pytest.mark.parametrize("case", CASES[BQ], ids=lambda c: c.name)
def test_conformance(case: Case, impl: Impl, request: pytest.FixtureRequest) -> None:
    golden = request.getfixturevalue("golden_dir") if case.fixture else None
    check(case, impl, golden)
