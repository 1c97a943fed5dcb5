"""The report of a check run (the GPU check, the TensorRT check): checks with a verdict, timing
tables, errors; rendered as markdown and written as `<kind>-<gpu>-<UTC time>.{md,json}`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from isbnet_trt.benchmarks import RESULTS
from isbnet_trt.benchmarks.machine import slug
from isbnet_trt.benchmarks.report import write_pair

#: The reports' folder (`benchmarks/results`).
DEFAULT_OUT = RESULTS
GPU_CHECK_TITLE = "GPU check of the isbnet:: CUDA kernels"


@dataclass
class Check:
    """One comparison: name, passed, the numbers behind it, and a note."""

    name: str
    passed: bool
    details: dict[str, Any] = field(default_factory=dict)
    note: str = ""


@dataclass
class Report:
    """Everything the check found; `write_report` renders it."""

    environment: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)
    timings: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.errors and all(c.passed for c in self.checks)


def render_markdown(report: Report, title: str = GPU_CHECK_TITLE) -> str:
    """The report as markdown under `# title`: verdict, environment, checks, timings, errors."""
    env = report.environment
    gpu = env.get("gpu") or {}
    lines = [
        f"# {title}",
        "",
        f"**Result: {_verdict(report)}** "
        f"({sum(c.passed for c in report.checks)}/{len(report.checks)} checks passed"
        + (f", {len(report.errors)} error(s)" if report.errors else "")
        + ")",
        "",
        "## Machine",
        "",
        "| item | value |",
        "| --- | --- |",
        f"| GPU | {gpu.get('name', 'none')} (sm {gpu.get('compute_capability', '-')}, "
        f"{gpu.get('multiprocessors', '-')} SMs, {gpu.get('memory_gib', '-')} GiB) |",
        f"| driver | {env.get('driver')} |",
        f"| kernel compiler | {env.get('kernel_compiler', '-')} |",
        f"| torch / CUDA | {env.get('packages', {}).get('torch')} / {env.get('torch_cuda')} |",
        f"| CPU | {env.get('cpu')} x {env.get('cpu_count')} |",
        f"| Python / OS | {env.get('python')} / {env.get('platform')} |",
        f"| git commit | {env.get('git_commit')} |",
        f"| date (UTC) | {env.get('date_utc')} |",
    ]
    installed = {k: v for k, v in env.get("packages", {}).items() if v}
    lines += ["", "Packages: " + ", ".join(f"{k} {v}" for k, v in sorted(installed.items())), ""]
    if report.settings:
        lines += ["Settings: " + ", ".join(f"{k}={v}" for k, v in report.settings.items()), ""]
    lines += ["## Checks", "", "| check | result | details |", "| --- | --- | --- |"]
    for c in report.checks:
        details = ", ".join(f"{k}={_fmt(v)}" for k, v in c.details.items())
        lines.append(
            f"| {c.name} | {'ok' if c.passed else '**FAIL**'} | {details}{' — ' + c.note if c.note else ''} |"
        )
    if report.timings:
        lines += ["", "## Timings (median ms, CUDA-synchronised)"]
        # One table per kind of row (kernel maps, pipelines, ops): their columns differ.
        groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for t in report.timings:
            groups.setdefault(tuple(t), []).append(t)
        for keys, rows in groups.items():
            lines += ["", "| " + " | ".join(keys) + " |", "|" + " --- |" * len(keys)]
            lines += ["| " + " | ".join(_fmt(t[k]) for k in keys) + " |" for t in rows]
    if report.errors:
        lines += ["", "## Errors", ""] + [f"```\n{e}\n```" for e in report.errors]
    return "\n".join(lines) + "\n"


def _verdict(report: Report) -> str:
    if report.errors and not report.checks:
        return "NOT RUN"
    return "PASSED" if report.passed else "FAILED"


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return (
            f"{v:.3g}" if (abs(v) < 1e-2 or abs(v) >= 1e4) and v != 0 else f"{v:.3f}".rstrip("0").rstrip(".")
        )
    return str(v)


def utc_stamp() -> str:
    """The current UTC time as in the report file names, e.g. 20261126T035758Z."""
    return dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def write_report(
    report: Report,
    out_dir: Path,
    stamp: str | None = None,
    kind: str = "gpu_check",
    title: str = GPU_CHECK_TITLE,
) -> tuple[Path, Path]:
    """Write `<kind>-<gpu>-<stamp>.md` and `.json` into `out_dir` (atomically); return both paths.

    stamp: UTC time in the file names, default now; pass the same one to rewrite a report in place.
    """
    gpu = (report.environment.get("gpu") or {}).get("name", "no-gpu")
    base = out_dir / f"{kind}-{slug(gpu) or 'unknown'}-{stamp or utc_stamp()}"
    return write_pair(
        base, render_markdown(report, title), {**asdict(report), "passed": report.passed}, indent=2
    )
