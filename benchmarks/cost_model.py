"""Cost model of one ISBNet inference: work per stage, the machine's throughput, the floor.

Work per stage (counted from the model's own modules, the scene's kernel maps and the workload
the reference run recorded, never from a table of constants):

* MACs (multiply-accumulates) of GEMM-like work: every sparse conv = active pairs of its kernel
  map × C_in × C_out (submanifold maps include the centre), 1×1 convs and point-wise MLPs = rows
  × weights, aggregator MLPs = grouped rows × weights, dynamic convolution = queries ×
  superpoints × generated weights per query;
* other arithmetic counted in the floor: FPS distance updates (`FPS_FLOPS_PER_UPDATE` each);
  ball query is not counted (its grid search cost depends on the data);
* compulsory memory traffic (`min_bytes`): what must be read and written at least once (inputs,
  kernel maps, outputs of each conv, final masks), and, for information, `moved_bytes`: what a
  gather-GEMM-scatter moves per conv (gathered inputs, per-pair products, their scatter).

Machine (`measure_machine`): fp32 `torch.mm` throughput on large square matrices (the peak) and
on the backbone's shapes (a block of `DEFAULT_BLOCK_ROWS` rows × C_in @ C_in × C_out), and the
copy bandwidth of a large tensor. The floor of a stage is max(2·MACs / peak + other FLOPs /
peak, min_bytes / bandwidth), peak = the best GEMM throughput measured (square at the run's
threads or one thread, or any backbone shape): no implementation on this machine can beat it.
The backbone also gets a "shape floor" where each conv runs at the throughput measured for its
own GEMM shape. `measure_gpu` measures the same on a CUDA device: GPU backends are held to
the GPU's floor.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from isbnet_trt.isbnet.aggregator import LocalAggregator
from isbnet_trt.isbnet.blocks import UBlock
from isbnet_trt.isbnet.config import ModelConfig
from isbnet_trt.isbnet.model import ISBNet
from isbnet_trt.isbnet.sparse_conv import Conv1x1, SparseConv3d, SparseInverseConv3d, SubMConv3d
from isbnet_trt.plugins.kernel_maps import LevelMaps
from isbnet_trt.plugins.sparse_conv.reference import DEFAULT_BLOCK_ROWS
from isbnet_trt.runtime.backends.torch_cuda import float32_precision

#: One FPS distance update: 3 subtractions, 3 multiply-adds, a min and a compare.
FPS_FLOPS_PER_UPDATE = 8
F32 = 4  # bytes
I32 = 4
I64 = 8


@dataclass
class StageCost:
    """Work of one stage: macs (GEMM-like multiply-accumulates), other_flops (counted at the
    peak too), min_bytes (compulsory traffic), moved_bytes (gather/scatter estimate, info),
    detail (the parts, for the report)."""

    macs: float = 0.0
    other_flops: float = 0.0
    min_bytes: float = 0.0
    moved_bytes: float = 0.0
    detail: dict[str, Any] = field(default_factory=dict)

    def __add__(self, other: StageCost) -> StageCost:
        return StageCost(
            self.macs + other.macs,
            self.other_flops + other.other_flops,
            self.min_bytes + other.min_bytes,
            self.moved_bytes + other.moved_bytes,
            {**self.detail, **other.detail},
        )


@dataclass(frozen=True)
class ConvSpec:
    """One sparse conv (or 1×1 conv) of the backbone: U-Net level, kind, channels."""

    name: str
    level: int
    kind: str  # "subm" | "down" | "up" | "1x1"
    c_in: int
    c_out: int


# ------------------------------------------------------------------------------ counting
def active_pairs(table: np.ndarray) -> int:
    """Active (output, input) pairs of a kernel map `(N_out, K)` int (-1 = none)."""
    return int(np.count_nonzero(np.asarray(table) >= 0))


def conv_macs(table: np.ndarray, c_in: int, c_out: int) -> int:
    """MACs of a sparse conv over its kernel map: active pairs × C_in × C_out."""
    return active_pairs(table) * c_in * c_out


def dense_macs_per_row(module: nn.Module) -> int:
    """MACs per input row of the Linear / 1×1 Conv layers inside `module` (= their weights)."""
    return sum(m.weight.numel() for m in module.modules() if isinstance(m, (nn.Linear, nn.Conv1d, nn.Conv2d)))


def structure_model(cfg: ModelConfig) -> ISBNet:
    """The model's module tree without weights (meta tensors): shapes only."""
    with torch.device("meta"):
        return ISBNet(cfg)


def backbone_convs(model: ISBNet) -> list[ConvSpec]:
    """Every sparse / 1×1 conv of the input conv and the U-Net, with its level and kind."""
    convs = [_spec("input_conv.0", model.input_conv[0], 0, "subm")]

    def walk(ub: UBlock, level: int, prefix: str) -> None:
        blocks = [("blocks", b) for b in ub.blocks]
        if ub.depth > 1:
            blocks += [("blocks_tail", b) for b in ub.blocks_tail]
        for where, block in blocks:
            for name, m in block.named_modules():
                if isinstance(m, SubMConv3d):
                    convs.append(_spec(f"{prefix}.{where}.{name}", m, level, "subm"))
                elif isinstance(m, Conv1x1):
                    convs.append(_spec(f"{prefix}.{where}.{name}", m, level, "1x1"))
        if ub.depth > 1:
            convs.append(_spec(f"{prefix}.conv", ub.conv[-1], level, "down"))
            walk(ub.u, level + 1, f"{prefix}.u")
            convs.append(_spec(f"{prefix}.deconv", ub.deconv[-1], level, "up"))

    walk(model.unet, 0, "unet")
    return convs


def _spec(name: str, m: nn.Module, level: int, kind: str) -> ConvSpec:
    if kind != "1x1" and not isinstance(m, (SubMConv3d, SparseConv3d, SparseInverseConv3d)):
        raise TypeError(f"{name} is not a sparse conv")
    return ConvSpec(name, level, kind, m.in_channels, m.out_channels)


def _conv_cost(spec: ConvSpec, maps: Sequence[LevelMaps]) -> tuple[int, int, int, int, int]:
    """(pairs, rows_in, rows_out, kernel volume, macs) of one conv on the scene's maps."""
    lm = maps[spec.level]
    if spec.kind == "1x1":
        n = lm.num_voxels
        return n, n, n, 1, n * spec.c_in * spec.c_out
    table = {"subm": lm.subm, "down": lm.down, "up": lm.up}[spec.kind]
    rows_in = maps[spec.level + 1].num_voxels if spec.kind == "up" else lm.num_voxels
    pairs = active_pairs(table)
    return pairs, rows_in, table.shape[0], table.shape[1], pairs * spec.c_in * spec.c_out


def backbone_cost(model: ISBNet, maps: Sequence[LevelMaps], n_superpoints: int) -> StageCost:
    """Sparse convs + 1×1 convs + point-wise heads (per voxel) + mask tower (per superpoint)."""
    cost = StageCost()
    per_conv = []
    for spec in backbone_convs(model):
        pairs, rows_in, rows_out, k, macs = _conv_cost(spec, maps)
        cost.macs += macs
        table_bytes = 0 if spec.kind == "1x1" else rows_out * k * I32
        cost.min_bytes += (rows_in * spec.c_in + rows_out * spec.c_out) * F32 + table_bytes
        cost.moved_bytes += pairs * ((spec.c_in + 2 * spec.c_out) * F32 + I64) + rows_out * spec.c_out * F32
        per_conv.append({**asdict(spec), "pairs": pairs, "rows_out": rows_out, "macs": macs})
    m = maps[0].num_voxels
    heads = (model.semantic_linear, model.offset_linear, model.offset_vertices_linear, model.box_conf_linear)
    head_macs = m * sum(dense_macs_per_row(h) for h in heads)
    tower_macs = n_superpoints * dense_macs_per_row(model.mask_tower) if hasattr(model, "mask_tower") else 0
    cost.macs += head_macs + tower_macs
    cost.min_bytes += m * model.cfg.channels * F32 + m * (model.cfg.semantic_classes + 12) * F32
    cost.detail = {
        "sparse_conv_macs": sum(c["macs"] for c in per_conv if c["kind"] != "1x1"),
        "conv1x1_macs": sum(c["macs"] for c in per_conv if c["kind"] == "1x1"),
        "head_macs": head_macs,
        "mask_tower_macs": tower_macs,
        "convs": per_conv,
    }
    return cost


def aggregator_cost(agg: LocalAggregator, n_points: int, n_queries: int, n_feat: int) -> StageCost:
    """One point aggregator: FPS of `n_queries` among `n_points`, two groupings, three MLPs.

    n_feat: input feature channels. MLP rows: queries × neighbours (first grouping), queries ×
    post-neighbours (second), queries (last MLP).
    """
    macs = (
        n_queries * agg.n_neighbor * dense_macs_per_row(agg.mlp_module1)
        + n_queries * agg.n_neighbor_post * dense_macs_per_row(agg.mlp_module2)
        + n_queries * dense_macs_per_row(agg.mlp_module3)
    )
    fps_updates = n_points * n_queries
    grouped = n_queries * agg.n_neighbor * (n_feat + 6) * F32  # the gathered first grouping
    min_bytes = n_points * (3 + 6 + n_feat) * F32 + n_queries * 2 * n_feat * F32
    return StageCost(
        macs=macs,
        other_flops=FPS_FLOPS_PER_UPDATE * fps_updates,
        min_bytes=min_bytes,
        moved_bytes=min_bytes + 2 * grouped,
        detail={"mlp_macs": macs, "fps_updates": fps_updates, "queries": n_queries, "points": n_points},
    )


def decoder_round_cost(model: ISBNet, n_cand: int, n_sample: int, n_superpoints: int) -> StageCost:
    """One iterative-sampling round: aggregator 2, instance heads, dynamic convolution."""
    q = min(n_sample, n_cand)
    c2 = model.cfg.channels * 2
    cost = aggregator_cost(model.point_aggregator2, n_cand, q, c2)
    heads = (model.inst_shared_mlp, model.inst_sem_head, model.inst_conf_head, model.inst_box_head)
    head_macs = q * (sum(dense_macs_per_row(h) for h in heads) + dense_macs_per_row(model.inst_mask_head))
    dyco_macs = q * n_superpoints * sum(model.weight_nums)
    d = model.cfg.mask_dim_out
    cost.macs += head_macs + dyco_macs
    cost.min_bytes += n_superpoints * (d + 9) * F32 + q * n_superpoints * F32  # features in, logits out
    cost.moved_bytes += q * n_superpoints * (d + 6) * F32  # the per-query input the einsum reads
    cost.detail.update(head_macs=head_macs, dynamic_conv_macs=dyco_macs, round_queries=q)
    return cost


def preprocess_cost(n_points: int, maps: Sequence[LevelMaps]) -> StageCost:
    """Compulsory traffic: the points in (float32 xyz+rgb), per-point maps out, every kernel map out."""
    tables = sum(t.nbytes for lm in maps for t in (lm.subm, lm.down, lm.up) if t is not None)
    m = maps[0].num_voxels
    min_bytes = n_points * 6 * F32 + n_points * I64 + m * (6 + 3) * F32 + tables
    return StageCost(min_bytes=min_bytes, moved_bytes=min_bytes, detail={"kernel_map_bytes": tables})


def postprocess_cost(n_points: int, n_instances: int) -> StageCost:
    """Compulsory traffic: the point→voxel map in, the final masks (bool per point) out."""
    min_bytes = n_points * I64 + n_instances * n_points
    return StageCost(min_bytes=min_bytes, moved_bytes=min_bytes)


def scene_costs(
    model: ISBNet, maps: Sequence[LevelMaps], workload: dict[str, Any], n_points: int, n_instances: int
) -> dict[str, StageCost]:
    """Cost of every stage of one inference, from the reference run's recorded workload
    (`voxels`, `superpoints`, `foreground_voxels`, `pa1_queries`, `rounds` [[n_cand, n_sample, fg]])."""
    s = workload["superpoints"]
    costs = {"preprocess": preprocess_cost(n_points, maps), "backbone": backbone_cost(model, maps, s)}
    if workload.get("foreground_voxels"):
        costs["aggregator"] = aggregator_cost(
            model.point_aggregator1,
            workload["foreground_voxels"],
            workload["pa1_queries"],
            model.cfg.channels,
        )
    rounds = [
        decoder_round_cost(model, n_cand, n_sample, s) for n_cand, n_sample, _ in workload.get("rounds", [])
    ]
    for i, r in enumerate(rounds):
        costs[f"decoder_r{i}"] = r
    if rounds:
        total = StageCost()
        for r in rounds:
            total = total + r
        total.detail = {"rounds": len(rounds)}
        costs["decoder"] = total
        costs["postprocess"] = postprocess_cost(n_points, n_instances)
    return costs


# ------------------------------------------------------------------------------ the machine
@dataclass
class MachineThroughput:
    """Measured fp32 throughput (GFLOP/s = 1e9 FLOP/s, 2 FLOP per MAC) and copy bandwidth (GB/s)."""

    threads: int
    peak_gflops: float
    peak_gflops_1thread: float
    bandwidth_gbs: float
    shape_gflops: dict[str, float] = field(default_factory=dict)
    peak_size: int = 0

    @property
    def best_peak_gflops(self) -> float:
        """The best fp32 GEMM throughput the machine showed, square or backbone shape (a floor
        must not be slower than any observed run)."""
        return max(self.peak_gflops, self.peak_gflops_1thread, *self.shape_gflops.values())

    def for_shape(self, k: int, n: int) -> float:
        return self.shape_gflops[shape_key(k, n)]


def shape_key(k: int, n: int) -> str:
    return f"{DEFAULT_BLOCK_ROWS}x{k}x{n}"


def _best_time(fn, min_time_s: float, min_runs: int = 10, sync=None) -> float:
    """The fastest of repeated runs of `fn` (at least `min_runs`, about `min_time_s` in all):
    the minimum, because interruptions only ever add time. `sync` (e.g. a CUDA synchronise)
    runs before the clock starts and before it stops."""
    sync = sync or (lambda: None)
    fn()  # warm-up
    best, spent, runs = math.inf, 0.0, 0
    while runs < min_runs or spent < min_time_s:
        sync()
        t = time.perf_counter()
        fn()
        sync()
        dt = time.perf_counter() - t
        best, spent, runs = min(best, dt), spent + dt, runs + 1
    return best


def _sync_for(device: str):
    return torch.cuda.synchronize if torch.device(device).type == "cuda" else None


def gemm_gflops(m: int, k: int, n: int, min_time_s: float = 0.2, device: str = "cpu") -> float:
    """fp32 `torch.mm` (m×k @ k×n, into a preallocated output) GFLOP/s at the current threads,
    on `device` (CUDA: true float32, TF32 off, as our GPU path runs)."""
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(m, k, generator=g).to(device), torch.randn(k, n, generator=g).to(device)
    out = torch.empty(m, n, device=device)
    with float32_precision(tf32=False):
        t = _best_time(lambda: torch.mm(a, b, out=out), min_time_s, sync=_sync_for(device))
    return 2.0 * m * k * n / t / 1e9


def copy_bandwidth_gbs(mib: int = 256, min_time_s: float = 0.2, device: str = "cpu") -> float:
    """Bytes read + written per second by a large fp32 tensor copy on `device` (GB/s)."""
    src = torch.ones(mib * 2**20 // F32, device=device)
    dst = torch.empty_like(src)
    t = _best_time(lambda: dst.copy_(src), min_time_s, sync=_sync_for(device))
    return 2.0 * src.numel() * F32 / t / 1e9


def measure_machine(
    shapes: Sequence[tuple[int, int]], threads: int, peak_size: int = 2048, min_time_s: float = 0.2
) -> MachineThroughput:
    """Peak GEMM (square `peak_size`, at `threads` and at 1 thread), the backbone's GEMM shapes
    (`DEFAULT_BLOCK_ROWS` × k @ k × n for each (k, n) of `shapes`) and copy bandwidth."""
    previous = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        peak_1 = gemm_gflops(peak_size, peak_size, peak_size, min_time_s)
        torch.set_num_threads(threads)
        peak = gemm_gflops(peak_size, peak_size, peak_size, min_time_s)
        per_shape = {
            shape_key(k, n): gemm_gflops(DEFAULT_BLOCK_ROWS, k, n, min_time_s / 4)
            for k, n in sorted(set(shapes))
        }
        bandwidth = copy_bandwidth_gbs(min_time_s=min_time_s)
    finally:
        torch.set_num_threads(previous)
    return MachineThroughput(threads, peak, peak_1, bandwidth, per_shape, peak_size)


def measure_gpu(
    shapes: Sequence[tuple[int, int]], device: str = "cuda", peak_size: int = 8192, min_time_s: float = 0.2
) -> MachineThroughput:
    """`measure_machine` on a CUDA device (fp32 without TF32; threads = 0, the 1-thread peak is
    the device peak): the floor of the GPU backends. Its backbone shapes use
    `DEFAULT_BLOCK_ROWS`-row blocks, which under-fill a large GPU: the shape floor is pessimistic
    there, the peak floor is not."""
    peak = gemm_gflops(peak_size, peak_size, peak_size, min_time_s, device)
    per_shape = {
        shape_key(k, n): gemm_gflops(DEFAULT_BLOCK_ROWS, k, n, min_time_s / 4, device)
        for k, n in sorted(set(shapes))
    }
    bandwidth = copy_bandwidth_gbs(1024, min_time_s, device)
    return MachineThroughput(0, peak, peak, bandwidth, per_shape, peak_size)


def backbone_shapes(model: ISBNet) -> list[tuple[int, int]]:
    """The (C_in, C_out) of every backbone conv: the GEMM shapes worth measuring."""
    return sorted({(c.c_in, c.c_out) for c in backbone_convs(model)})


# ------------------------------------------------------------------------------ floors
def floor(cost: StageCost, machine: MachineThroughput) -> dict[str, float]:
    """Seconds: compute at the peak, memory at the copy bandwidth, the floor (their max)."""
    compute = (2.0 * cost.macs + cost.other_flops) / (machine.best_peak_gflops * 1e9)
    memory = cost.min_bytes / (machine.bandwidth_gbs * 1e9)
    return {"compute_s": compute, "memory_s": memory, "floor_s": max(compute, memory)}


def backbone_shape_floor_s(cost: StageCost, machine: MachineThroughput) -> float:
    """The backbone's convs each at the measured throughput of their own GEMM shape, plus the
    heads at the peak (seconds): what per-offset GEMMs of these widths can reach here."""
    convs = cost.detail["convs"]
    t = sum(2.0 * c["macs"] / (machine.for_shape(c["c_in"], c["c_out"]) * 1e9) for c in convs)
    rest = cost.detail["head_macs"] + cost.detail["mask_tower_macs"]
    return t + 2.0 * rest / (machine.best_peak_gflops * 1e9)


def floors_table(costs: dict[str, StageCost], machine: MachineThroughput) -> dict[str, dict[str, float]]:
    """Per stage: GMAC, MB of compulsory traffic, compute / memory / floor ms (+ the backbone's
    shape floor), JSON-able."""
    out = {}
    for stage, cost in costs.items():
        f = floor(cost, machine)
        row = {
            "gmac": cost.macs / 1e9,
            "other_gflop": cost.other_flops / 1e9,
            "min_mb": cost.min_bytes / 1e6,
            "moved_mb": cost.moved_bytes / 1e6,
            "compute_ms": 1000 * f["compute_s"],
            "memory_ms": 1000 * f["memory_s"],
            "floor_ms": 1000 * f["floor_s"],
        }
        if stage == "backbone":
            row["shape_floor_ms"] = 1000 * backbone_shape_floor_s(cost, machine)
        out[stage] = row
    total_floor = sum(
        out[s]["floor_ms"]
        for s in ("preprocess", "backbone", "aggregator", "decoder", "postprocess")
        if s in out
    )
    out["total"] = {"floor_ms": total_floor}
    return out
