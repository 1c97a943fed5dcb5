"""Shared test fixtures: the `../shared` fixture folder and small helpers."""

from __future__ import annotations

import os
from collections.abc import Callable
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


@pytest.fixture(scope="session")
def onnx_export(tmp_path_factory: pytest.TempPathFactory) -> Callable[[Path, Path], Path]:
    """`onnx_export(checkpoint, config)`: the checkpoint's ONNX stages exported once per session
    (an export takes ~20 s here; the same checkpoint asked twice shares one)."""
    done: dict[tuple[str, str], Path] = {}

    def export(checkpoint: Path, config: Path) -> Path:
        key = (str(Path(checkpoint).resolve()), str(Path(config).resolve()))
        if key not in done:
            from isbnet_trt.export.build import export_checkpoint

            out = tmp_path_factory.mktemp("export") / Path(checkpoint).stem
            done[key] = export_checkpoint(checkpoint, out, config, backends=("onnx",), log=lambda _: None)
        return done[key]

    return export
