"""The benchmark's two pictures: latency against scene size, and the stage breakdown at one size.

Both take the result of `isbnet_trt.benchmarks.runner.run_benchmark` (+ the floors of
`run_benchmarks.py`) and name the machine in the title. matplotlib is imported lazily (Agg).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

PIPELINE_STAGES = ("preprocess", "backbone", "aggregator", "decoder", "postprocess")
COLOURS = ("#8c8c8c", "#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd")


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def machine_title(result: dict[str, Any]) -> str:
    m = result["machine"]
    gpu = f", {m['gpu']}" if m.get("gpu") else ""
    text = f"{m['cpu']} ({m['cores']} cores, {m['threads']} threads){gpu}, {m['date_utc'][:10]}"
    return text + ("\nVALIDATION RUN, not a measurement" if result.get("label") else "")


def latency_plot(
    result: dict[str, Any], floors: dict[str, Any], path: Path, gpu_floors: dict[str, Any] | None = None
) -> Path:
    """Median end-to-end latency (min–max bars) vs points, one line per backend, log-log;
    the cost model's floor of the whole pipeline dashed (the GPU's dotted, when measured)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 5.5))
    for backend in result["settings"]["backends"]:
        rows = sorted(
            (r for r in result["rows"] if r["backend"] == backend and r["status"] == "ok"),
            key=lambda r: r["n_points"],
        )
        if not rows:
            continue
        x = [r["n_points"] for r in rows]
        tot = [r["stages"]["total"] for r in rows]
        y = [t["median"] for t in tot]
        err = [[t["median"] - t["min"] for t in tot], [t["max"] - t["median"] for t in tot]]
        ax.errorbar(x, y, yerr=err, marker="o", capsize=3, label=backend)
    cpu_name = "CPU floor (cost model)" if gpu_floors else "floor (cost model)"
    for table, style, name in ((floors, "k--", cpu_name), (gpu_floors or {}, "k:", "GPU floor")):
        fl = sorted((int(n), f["total"]["floor_ms"]) for n, f in table.items())
        if fl:
            ax.plot([n for n, _ in fl], [f for _, f in fl], style, marker="_", ms=14, label=name)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("points per scene (generated room)")
    ax.set_ylabel("end-to-end latency, ms (median, min–max)")
    ax.set_title("isbnet-trt latency vs scene size\n" + machine_title(result), fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def breakdown_plot(
    result: dict[str, Any],
    floors: dict[str, Any],
    n_points: int,
    path: Path,
    gpu_floors: dict[str, Any] | None = None,
) -> Path:
    """Stacked median per stage for every backend at `n_points`, and the floor per stage (the
    GPU's too, when measured)."""
    plt = _pyplot()
    rows = [r for r in result["rows"] if r["n_points"] == n_points and r["status"] == "ok"]
    labels = [r["backend"] for r in rows]
    stage_rows = [[r["stages"].get(s, {}).get("median", 0.0) for s in PIPELINE_STAGES] for r in rows]
    cpu_name = "CPU floor (cost model)" if gpu_floors else "floor (cost model)"
    for table, name in ((floors, cpu_name), (gpu_floors or {}, "GPU floor")):
        floor = table.get(str(n_points))
        if floor:
            labels.append(name)
            stage_rows.append([floor.get(s, {}).get("floor_ms", 0.0) for s in PIPELINE_STAGES])
    fig, ax = plt.subplots(figsize=(9, 0.6 * len(labels) + 2))
    left = [0.0] * len(labels)
    for i, (stage, colour) in enumerate(zip(PIPELINE_STAGES, COLOURS, strict=True)):
        widths = [vals[i] for vals in stage_rows]
        ax.barh(labels, widths, left=left, color=colour, label=stage)
        left = [a + b for a, b in zip(left, widths, strict=True)]
    for y, total in enumerate(left):
        ax.text(total, y, f" {total:.0f} ms", va="center", fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("ms (median per stage)")
    ax.set_title(f"Stage breakdown at {n_points:,} points\n" + machine_title(result), fontsize=10)
    ax.legend(fontsize=8, loc="lower right")
    ax.set_xlim(0, max(left, default=1) * 1.15)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
