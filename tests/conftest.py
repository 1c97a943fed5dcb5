"""Shared test fixtures: the `../shared` fixture folder (or, where it is absent, the repository's own
checkpoint and golden case) and small helpers."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import torch

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


SHARED_CKPT = (
    GOLDEN / "random_scannetv2_lightweight.pth",
    FIXTURES / "official_configs" / "isbnet_lightweight_scannetv2.yaml",
)


def shared_present() -> bool:
    return all(p.exists() for p in SHARED_CKPT)


def pytest_report_header(config: pytest.Config) -> str:
    if shared_present():
        return f"shared fixtures: {FIXTURES}"
    return (
        f"shared fixtures: absent ({FIXTURES}): the tests against the official run, configs and "
        "manifest skip; golden_ckpt is the bundled demo checkpoint"
    )


@pytest.fixture(scope="session")
def golden_ckpt() -> tuple[Path, Path]:
    """(checkpoint, config) of an official-format checkpoint, for the tests that need one but not
    a particular one: the shared random golden checkpoint with the official lightweight config
    where `../shared` is present (CI), else the bundled demo weights with `demo.yaml` (same
    official format; a trained 5-level U-Net of the lightweight config). Tests that compare
    against the official run load the shared checkpoint from `golden_dir` themselves."""
    if shared_present():
        return SHARED_CKPT
    from isbnet_trt.isbnet.demo import demo_config_path, demo_weights_path

    return demo_weights_path(), demo_config_path()


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


@pytest.fixture()
def one_torch_thread() -> Iterator[None]:
    """torch on one thread for the test: on a busy 2-core machine OpenMP barriers make tiny ops
    take milliseconds with 2 threads (results do not depend on the thread count)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
