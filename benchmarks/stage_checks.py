"""What the GPU check and the TensorRT check share: tolerances, the GPU requirement, CUDA-synchronised
timing, and the comparisons of a backend's stages and instances with a reference run.

torch and the package's GPU code are imported lazily, so that `--help` and the report code run
anywhere.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from isbnet_trt.benchmarks.check_report import Check, Report

# Tolerances of the float checks (relative to the largest reference magnitude): one kernel, and
# one model stage fed the reference inputs (the export's stage-parity tolerance).
FP32_REL_TOL = 1e-5
STAGE_REL_TOL = 1e-4


def require_gpu(device: str) -> str | None:
    """None when `device` can run the kernels, else a sentence saying what is missing."""
    try:
        import torch
    except ImportError:
        return "PyTorch is not installed"
    if not torch.cuda.is_available():
        return f"PyTorch {torch.__version__} sees no CUDA device (CPU-only build or no driver)"
    try:
        from isbnet_trt.plugins.cuda_driver import device_kernels

        device_kernels(torch.device(device).index or 0)
    except Exception as e:  # noqa: BLE001 - report whatever stops the kernels from loading
        return f"the CUDA kernels cannot be loaded: {type(e).__name__}: {e}"
    return None


@contextmanager
def cuda_timer(store: dict[str, list[float]], name: str) -> Iterator[None]:
    import torch

    torch.cuda.synchronize()
    t0 = time.perf_counter()
    yield
    torch.cuda.synchronize()
    store.setdefault(name, []).append(1000 * (time.perf_counter() - t0))


def median_ms(fn: Callable[[], Any], repeat: int, warmup: int) -> float:
    import torch

    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        fn()
        torch.cuda.synchronize()
        times.append(1000 * (time.perf_counter() - t0))
    return statistics.median(times)


def rel_err(got, ref) -> float:
    """max |got - ref| / max |ref| (inf on a shape mismatch, 0 for empty tensors)."""
    got, ref = got.detach().float().cpu(), ref.detach().float().cpu()
    if got.shape != ref.shape:
        return float("inf")
    if ref.numel() == 0:
        return 0.0
    return float((got - ref).abs().max()) / (float(ref.abs().max()) or 1.0)


def same_indices(got, ref) -> bool:
    """Index tensors equal in shape and value (any integer dtype, any device)."""
    import torch

    got, ref = got.cpu().long(), ref.cpu().long()
    return got.shape == ref.shape and bool(torch.equal(got, ref))


def check_stages(report: Report, ours, trace_ref: dict[str, Any], scene, label: str) -> None:
    """Each GPU stage fed the CPU reference's inputs (teacher forcing), so that float noise of
    one stage cannot reach the next: index outputs must be identical, float outputs within
    `STAGE_REL_TOL` of the reference (the export's stage-parity tolerance)."""
    import dataclasses

    import torch

    from isbnet_trt.isbnet.aggregator import Queries

    bb_ref = trace_ref["backbone"]
    bb = ours.backbone(scene.voxel_feats, scene.voxel_coords_float, scene.voxel_spps, scene.maps)
    fields = ("feats", "semantic_scores", "box_preds", "spp_boxes", "mask_features")
    details: dict[str, Any] = {f"{f}_rel": rel_err(getattr(bb, f), getattr(bb_ref, f)) for f in fields}
    details["object_mask_flips"] = int((bb.object_mask.cpu() != bb_ref.object_mask).sum())
    ok = all(v <= STAGE_REL_TOL for k, v in details.items() if k.endswith("_rel"))
    report.checks.append(
        Check(
            f"stage backbone vs CPU reference [{label}]",
            ok,
            details,
            note="object_mask_flips: foreground decisions changed by float rounding (reported, not gated)",
        )
    )
    if "aggregator" not in trace_ref:
        return
    idx = trace_ref["object_idxs"]
    if scene.pa1_max_voxel is not None:
        idx = idx[idx <= scene.pa1_max_voxel]
    pa1_ref = trace_ref["aggregator"]
    pa1 = ours.aggregate(scene.voxel_coords_float[idx], bb_ref.feats[idx], bb_ref.box_preds[idx])
    details = {
        "queries": int(pa1_ref.inds.numel()),
        "inds_identical": same_indices(pa1.inds, pa1_ref.inds),
        "feats_rel": rel_err(pa1.feats, pa1_ref.feats),
        "boxes_rel": rel_err(pa1.boxes, pa1_ref.boxes),
    }
    ok = details["inds_identical"] and max(details["feats_rel"], details["boxes_rel"]) <= STAGE_REL_TOL
    report.checks.append(Check(f"stage aggregator 1 (teacher-forced) [{label}]", ok, details))
    dev = ours.device
    bb_dev = dataclasses.replace(
        bb_ref,
        **{
            f.name: getattr(bb_ref, f.name).to(dev)
            for f in dataclasses.fields(bb_ref)
            if isinstance(getattr(bb_ref, f.name), torch.Tensor)
        },
    )
    for i, n_sample in enumerate(ours.cfg.n_sample_rounds):
        step = trace_ref.get(f"it{i}")
        if step is None:
            break
        c = step["cand_idxs"]
        cand = Queries(pa1_ref.locs[:, c], pa1_ref.feats[:, :, c], pa1_ref.boxes[:, c], pa1_ref.inds[c])
        out, out_ref = ours.decoder(cand, min(n_sample, len(c)), bb_dev), step["out"]
        details = {
            "candidates": len(c),
            "cand_inds_identical": same_indices(out.cand_inds, out_ref.cand_inds),
        }
        for f in ("cls_logits", "conf_logits", "box_preds", "mask_logits"):
            details[f"{f}_rel"] = rel_err(getattr(out, f), getattr(out_ref, f))
        ok = details["cand_inds_identical"] and all(
            v <= STAGE_REL_TOL for k, v in details.items() if k.endswith("_rel")
        )
        report.checks.append(Check(f"stage decoder round {i} (teacher-forced) [{label}]", ok, details))


def instance_diff(ref, got) -> dict[str, Any]:
    from isbnet_trt.isbnet.compare import match_instances

    m = match_instances((ref.label_ids, ref.scores, ref.masks), (got.label_ids, got.scores, got.masks))
    return {
        "instances": f"{len(ref)}/{len(got)}",
        "unmatched": m.unmatched,
        "min_iou": m.min_iou,
        "max_score_diff": m.max_score_diff,
        "same": m.same(iou=0.99, score_tol=1e-4),
    }
