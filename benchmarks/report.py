"""The benchmark's report: markdown tables (machine, one stage table per size, speed-ups, setup
and cold start) and the report files, named after the machine and the date.

    print(render_markdown(result))
    md, js = write_report(result, out_dir, report_stem(result))
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from isbnet_trt.benchmarks.machine import machine_slug, slug
from isbnet_trt.benchmarks.runner import PYTORCH_PATHS, REFERENCE
from isbnet_trt.files import write_atomic
from isbnet_trt.runtime.backends import GPU_BACKENDS


def fmt_ms(ms: float | None) -> str:
    """Milliseconds with 3 significant figures (`-` for None)."""
    if ms is None:
        return "-"
    return f"{ms:.3g}" if ms < 100 else f"{ms:.0f}"


def _cell(row: dict[str, Any], stage: str) -> str:
    s = row["stages"].get(stage)
    return fmt_ms(s["median"]) if s else "-"


def _decoder_cell(row: dict[str, Any]) -> str:
    rounds = [row["stages"][k]["median"] for k in sorted(row["stages"]) if k.startswith("decoder_r")]
    total = _cell(row, "decoder")
    return f"{total} ({' / '.join(fmt_ms(r) for r in rounds)})" if rounds else total


def _same_cell(row: dict[str, Any]) -> str:
    m = row.get("match")
    if row["backend"] == REFERENCE:
        return "reference" + ("" if row["deterministic"] else " (**varies between calls**)")
    if m is None:
        return "no reference"
    if m["same"]:
        return "yes" if m["distinct_results"] == 1 else f"yes ({m['distinct_results']} results)"
    return (
        f"**NO** (unmatched {m['unmatched']}, min IoU {m['min_iou']:.3f}, "
        f"score diff {m['max_score_diff']:.1e})"
    )


def _memory_cell(row: dict[str, Any]) -> str:
    mem = row["memory"]
    if mem.get("peak_rss_mib") is None:
        return "-"
    text = f"{mem['peak_rss_mib']:.0f} (+{mem['peak_rss_mib'] - mem['base_rss_mib']:.0f})"
    if mem.get("cuda_peak_mib") is not None:
        text += f", GPU {mem['cuda_peak_mib']:.0f}"
    return text


def render_markdown(result: dict[str, Any]) -> str:
    """The report: machine, model, settings, one stage table per size, speed-ups, notes."""
    m = result["machine"]
    title = "isbnet-trt benchmark" + (f" — {result['label']}" if result.get("label") else "")
    lines = [f"# {title}", ""]
    lines += [f"> {n}" for n in result.get("notes", [])] + ([""] if result.get("notes") else [])
    lines += machine_lines(m) + [""]
    model, st = result["model"], result["settings"]
    lines += [
        f"Model: `{model['checkpoint']}` with `{model['config']}` "
        f"({model['name']}: channels {model['channels']}, "
        f"{model['num_blocks']} U-Net levels, rounds {model['rounds']}).",
        f"Rooms: `generate_room(n, seed={st['seed']})`; "
        f"{st['warmup']} warm-up + {st['repeat']} timed calls per "
        f"backend and size; {st['threads']} threads (torch, onnxruntime intra-op, numba); "
        + ("one process per backend." if st["isolate"] else "all backends in one process."),
        "",
    ]
    for n in sorted({r["n_points"] for r in result["rows"]}):
        lines += stage_table(result, n) + [""]
    lines += speedup_lines(result) + [""]
    if result.get("skipped"):
        lines += ["Not run: " + "; ".join(f"{b} ({why})" for b, why in result["skipped"].items()), ""]
    lines += setup_lines(result) + [""]
    lines += [COLUMNS_NOTE, ""]
    return "\n".join(lines)


def machine_lines(m: dict[str, Any]) -> list[str]:
    pk = m.get("packages", {})
    return [
        "| machine | |",
        "| --- | --- |",
        f"| CPU | {m['cpu']}, {m['cores']} cores usable ({m['logical_cpus']} logical), "
        f"{m.get('memory_gib')} GiB |",
        f"| GPU | {m.get('gpu', 'none')} |",
        f"| threads | {m['threads']} (torch parallel backend {m.get('torch_parallel')}, "
        f"BLAS {m.get('torch_blas')}) |",
        f"| load average (1/5/15 min) | start {m.get('loadavg_start')}, end {m.get('loadavg_end')} |",
        f"| CPU used by other processes during the run | {_share(m.get('other_cpu_share'))} |",
        f"| OS / Python | {m['os']} / {m['python']} |",
        f"| libraries | {', '.join(f'{k} {v}' for k, v in pk.items())} |",
        f"| isbnet-trt | {m['isbnet_trt']} (git {m.get('git_commit')}), {m['date_utc']} |",
    ]


def stage_table(result: dict[str, Any], n_points: int) -> list[str]:
    rows = [r for r in result["rows"] if r["n_points"] == n_points]
    ok = [r for r in rows if r["status"] == "ok"]
    voxels = next((r["workload"].get("voxels") for r in ok if r["workload"].get("voxels")), None)
    derived = result.get("derived", {}).get(str(n_points), {})
    lines = [
        f"## {n_points:,} points ({voxels:,} voxels)" if voxels else f"## {n_points:,} points",
        "",
        "Median ms per stage; total with [min – max]; decoder = all rounds (each round).",
        "",
        "| backend | preprocess | backbone | aggregator | decoder (rounds) | postprocess | total [min – max] "
        "| vs torch | peak RSS MiB (+call) | instances | same as torch |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in rows:
        if r["status"] != "ok":
            lines.append(f"| {r['backend']} | failed: {r.get('error')} |" + " |" * 9)
            continue
        tot = r["stages"]["total"]
        speed = derived.get("speedup", {}).get(r["backend"], {}).get("vs_torch")
        lines.append(
            f"| {r['backend']} | {_cell(r, 'preprocess')} | {_cell(r, 'backbone')} "
            f"| {_cell(r, 'aggregator')} "
            f"| {_decoder_cell(r)} | {_cell(r, 'postprocess')} "
            f"| {fmt_ms(tot['median'])} [{fmt_ms(tot['min'])} – {fmt_ms(tot['max'])}] "
            f"| {f'{speed:.2f}×' if speed else '-'} | {_memory_cell(r)} "
            f"| {r['n_instances']} | {_same_cell(r)} |"
        )
    ref = next((r for r in ok if r.get("kernel_maps")), None)
    if ref:
        lines += ["", f"Kernel maps (inside preprocess): {fmt_ms(ref['kernel_maps']['median'])} ms median."]
    return lines


def speedup_lines(result: dict[str, Any]) -> list[str]:
    derived = result.get("derived", {})
    if not derived:
        return []
    backends = [b for b in result["settings"]["backends"] if any(b in d["speedup"] for d in derived.values())]
    lines = [
        "## Speed-up of the total (median) over the fastest correct PyTorch path",
        "",
        "The fastest of "
        + ", ".join(PYTORCH_PATHS)
        + " with the reference's instances; torch-spconv's total "
        "without the kernel maps it does not use.",
        "",
        "| points | fastest PyTorch (ms) | " + " | ".join(backends) + " |",
        "| ---: | --- |" + " ---: |" * len(backends),
    ]
    for n, d in derived.items():
        cells = [
            f"{d['speedup'][b]['vs_fastest_pytorch']:.2f}×" if b in d["speedup"] else "-" for b in backends
        ]
        lines.append(
            f"| {int(n):,} | {d['fastest_pytorch']} ({fmt_ms(d['fastest_pytorch_ms'])}) | "
            + " | ".join(cells)
            + " |"
        )
    return lines


def setup_lines(result: dict[str, Any]) -> list[str]:
    first = min((r["n_points"] for r in result["rows"]), default=None)
    lines = [
        "## Setup, cold start and threads",
        "",
        f"| backend | build s | cold start s ({first or 0:,} points) | first call ms (per size) | threads |",
        "| --- | ---: | ---: | --- | --- |",
    ]
    for b, s in result["setup"].items():
        firsts = [
            fmt_ms(r.get("first_call_ms"))
            for r in result["rows"]
            if r["backend"] == b and r["status"] == "ok"
        ]
        threads = ", ".join(f"{k}={v}" for k, v in (s.get("threads") or {}).items())
        build = f"{s['setup_s']:.1f}" if s.get("setup_s") is not None else f"failed: {s.get('error')}"
        cold = f"{s['cold_start_s']:.1f}" if s.get("cold_start_s") is not None else "-"
        lines.append(f"| {b} | {build} | {cold} | {' / '.join(firsts) or '-'} | {threads} |")
    lines += [
        "",
        "Cold start: from starting the backend's process to the first result on the smallest room "
        "(interpreter, imports, building the stages, first call with its one-off costs: numba's "
        "cache loads, onnxruntime's first runs); `-` with --in-process. Build: the stages alone.",
    ]
    if result.get("export"):
        lines += [
            "",
            f"ONNX export: {result['export']['seconds']:.1f} s (0 when cached) "
            f"into `{result['export']['dir']}`.",
        ]
    return lines


COLUMNS_NOTE = """Columns: preprocess = axes/centring, voxelisation, superpoint renumbering and the
kernel maps of every U-Net level (NumPy + numba; torch-cuda: voxelisation, voxel means and maps
with PyTorch ops on the GPU); backbone = U-Net,
heads, superpoint pooling and mask tower (torch: including the pair lists built from the kernel
maps; torch-spconv: including spconv's own rulebooks); aggregator = foreground selection and
point aggregator 1 (FPS 2048, ball query, MLPs); decoder = every iterative-sampling round
(aggregator 2, heads, dynamic convolution) and the coverage updates between rounds; postprocess =
scores, top-k, matrix NMS, devoxelisation, superpoint refinement. Peak RSS = the process's
resident peak during one untimed call (VmHWM after a reset), in brackets its growth over the
resident size before that call. "same as torch": every distinct result of the backend's calls
matches the torch backend's first result (`match_instances(...).same()`: same labels, mask IoU >
0.99, scores within 1e-4)."""


def write_report(
    result: dict[str, Any], out_dir: Path, stem: str, markdown: str | None = None
) -> tuple[Path, Path]:
    """`<stem>.md` (default: `render_markdown(result)`) and `<stem>.json` in `out_dir`, written
    atomically; both paths."""
    return write_pair(out_dir / stem, markdown or render_markdown(result), result, indent=1)


def write_pair(base: Path, markdown: str, payload: Any, indent: int) -> tuple[Path, Path]:
    """`<base>.md` and `<base>.json` (the payload), each written atomically; both paths. The
    one way every benchmark and check writes its report."""
    base.parent.mkdir(parents=True, exist_ok=True)
    md, js = base.with_name(base.name + ".md"), base.with_name(base.name + ".json")
    write_atomic(md, markdown)
    write_atomic(js, json.dumps(payload, indent=indent, default=str))
    return md, js


def report_stem(result: dict[str, Any], prefix: str = "") -> str:
    """`<prefix><cpu|gpu>_<machine>_<date>`: `cpu_amd-epyc-2c_2026-11-25`, or, when a GPU backend
    was measured, `gpu_nvidia-h200_intel-xeon-16c_2026-11-26` (the GPU named first)."""
    machine = result["machine"]
    date = machine["date_utc"][:10]
    on_gpu = machine.get("gpu") and any(
        r["backend"] in GPU_BACKENDS and r["status"] == "ok" for r in result["rows"]
    )
    if not on_gpu:
        return f"{prefix}cpu_{machine_slug(machine)}_{date}"
    gpu = slug(machine["gpu"].split(" (")[0])
    return f"{prefix}gpu_{gpu}_{machine_slug(machine)}_{date}"


def _share(x: float | None) -> str:
    return "unknown" if x is None else f"{x:.1%}"
