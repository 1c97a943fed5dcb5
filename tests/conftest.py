"""Shared test fixtures: the `../shared` fixture folder and small helpers."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DIR = Path(os.environ.get("ISBNET_SHARED", REPO_ROOT.parent / "shared"))
FIXTURES = SHARED_DIR / "fixtures"
GOLDEN = FIXTURES / "golden"


def require_fixture(path: Path) -> Path:
    """Return `path`, or skip the calling test visibly when the shared fixtures are absent."""
    if not path.exists():
        pytest.skip(
            f"shared fixture not found: {path} (set ISBNET_SHARED or place ../shared beside the repo)"
        )
    return path


@pytest.fixture(scope="session")
def golden_dir() -> Path:
    return require_fixture(GOLDEN)


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    return require_fixture(FIXTURES)


@pytest.fixture(scope="session")
def golden_ckpt(golden_dir: Path, fixtures_dir: Path) -> tuple[Path, Path]:
    """(checkpoint, config) of the official-format golden checkpoint (lightweight config)."""
    return (
        golden_dir / "random_scannetv2_lightweight.pth",
        fixtures_dir / "official_configs" / "isbnet_lightweight_scannetv2.yaml",
    )
