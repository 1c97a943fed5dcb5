"""The benchmark scripts run both ways that the README documents: `python benchmarks/<script>.py`
(the file itself; its imports go through the installed package) and `python -m
isbnet_trt.benchmarks.<script>`. `--help` only: nothing is measured."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
SCRIPTS = ("run_benchmarks", "gpu_check", "trt_check", "command")


@pytest.mark.parametrize("script", SCRIPTS)
def test_script_and_module_print_help(script):
    for cmd in ([str(BENCHMARKS / f"{script}.py")], ["-m", f"isbnet_trt.benchmarks.{script}"]):
        done = subprocess.run([sys.executable, *cmd, "--help"], capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        assert "usage:" in done.stdout


def test_worker_module_says_how_to_call_it():
    done = subprocess.run(
        [sys.executable, "-m", "isbnet_trt.benchmarks.worker"], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 2 and "isbnet_trt.benchmarks.worker SPEC.json" in done.stderr
