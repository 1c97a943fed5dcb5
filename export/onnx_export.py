"""Export the stages of a loaded `ISBNet` to ONNX files with `isbnet::` custom-op nodes.

`torch.onnx.export(dynamo=True)` traces each stage module (`export.stages`) with symbolic
dims (`torch.export.Dim`, one per symbolic name of `stage_io`); the custom ops become bare
`isbnet::` nodes through the translation table (`export.custom_ops`). The exporter inlines
model-local functions, so the op bodies (`export.functions`) are attached afterwards, with the
`isbnet` opset import. Each graph then passes `onnx.checker.check_model(full_check=True)` and
strict shape inference before it is written.

Example inputs are random tensors of distinct, moderate sizes: the trace uses only their
shapes (torch.export specialises sizes 0 and 1 and may merge equal sizes, hence distinct
values >= 2).
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import onnx
import torch

from isbnet_trt.export.custom_ops import DOMAIN, DOMAIN_VERSION, translation_table
from isbnet_trt.export.functions import all_bodies
from isbnet_trt.export.manifest import TensorSpec
from isbnet_trt.export.stages import stage_io, stage_module
from isbnet_trt.isbnet.model import ISBNet

#: Default ONNX opset of the exported graphs (the bodies need >= 17).
DEFAULT_OPSET = 17
MIN_OPSET = 17

# Example sizes for tracing: distinct and >= 2 (any values would do).
_EXAMPLE_DIMS = {
    "n_voxels": 3001,
    "n_superpoints": 211,
    "n_fg": 2503,
    "n_cand": 1999,
    "n_queries": 157,
}


class ExportError(RuntimeError):
    """A stage could not be exported or its graph failed the ONNX checks."""


def example_dims(n_levels: int) -> dict[str, int]:
    dims = dict(_EXAMPLE_DIMS)
    for lvl in range(1, n_levels):
        dims[f"n_voxels_{lvl}"] = 1500 // lvl + 7 * lvl  # decreasing, distinct from the others
    return dims


def _example(spec: TensorSpec, sizes: dict[str, int], gen: torch.Generator) -> torch.Tensor:
    shape = [d if isinstance(d, int) else sizes[d] for d in spec.dims]
    if spec.dtype == "float32":
        return torch.randn(shape, generator=gen)
    if spec.dtype == "int32":  # kernel maps: any in-range values (-1 .. n_in - 1)
        return torch.randint(-1, 100, shape, generator=gen, dtype=torch.int32)
    if spec.name == "spp_order":  # a permutation of the voxels
        return torch.randperm(shape[0], generator=gen)
    if spec.dtype == "int64":  # voxel_spps: every superpoint id below S
        return torch.randint(0, sizes["n_superpoints"], shape, generator=gen, dtype=torch.int64)
    raise ValueError(f"no example for dtype {spec.dtype}")


def export_stage(model: ISBNet, name: str, path: Path, opset: int = DEFAULT_OPSET) -> onnx.ModelProto:
    """Export stage `name` of `model` to `path` (a single .onnx file, weights inside) and return it."""
    if opset < MIN_OPSET:
        raise ExportError(f"opset {opset} is too old: the isbnet:: function bodies need opset >= {MIN_OPSET}")
    inputs, outputs = stage_io(model.cfg)[name]
    module = stage_module(model, name)
    sizes = example_dims(model.cfg.num_blocks)
    gen = torch.Generator().manual_seed(0)
    args = tuple(_example(s, sizes, gen) for s in inputs)
    dims: dict[str, torch.export.Dim] = {}
    dynamic = tuple(
        {
            axis: dims.setdefault(d, torch.export.Dim(d, min=0))
            for axis, d in enumerate(s.dims)
            if isinstance(d, str)
        }
        for s in inputs
    )
    if name == "backbone":  # forward(*inputs): torch.export sees one tuple argument
        dynamic = (dynamic,)
    with warnings.catch_warnings(), _quiet_exporter():
        warnings.simplefilter("ignore")  # exporter chatter (deprecations, dim renames)
        try:
            program = torch.onnx.export(
                module,
                args,
                dynamo=True,
                opset_version=opset,
                dynamic_shapes=dynamic,
                custom_translation_table=translation_table(),
                input_names=[s.name for s in inputs],
                output_names=[s.name for s in outputs],
                optimize=True,
                verbose=False,
            )
        except Exception as e:  # noqa: BLE001 - the exporter raises many types; report one line
            first = next((ln for ln in str(e).splitlines() if ln.strip()), type(e).__name__)
            raise ExportError(f"stage {name!r}: torch.onnx.export failed: {first}") from e
    proto = finalize(program.model_proto, name, inputs, outputs, opset)
    onnx.save_model(proto, str(path))
    return proto


def finalize(
    proto: onnx.ModelProto, name: str, inputs: list[TensorSpec], outputs: list[TensorSpec], opset: int
) -> onnx.ModelProto:
    """Attach the `isbnet` function bodies and opset import, name the graph's symbolic dims as
    `stage_io` does, and check the graph (opset, ONNX checker, strict shape inference)."""
    default = [o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")]
    if default != [opset]:
        raise ExportError(f"stage {name!r}: the exporter produced opset {default}, not {opset}")
    _name_dims(proto.graph.input, inputs, name)
    _name_dims(proto.graph.output, outputs, name)
    used = {n.op_type for n in _all_nodes(proto.graph) if n.domain == DOMAIN}
    bodies = all_bodies()
    del proto.functions[:]
    proto.functions.extend(bodies[op] for op in sorted(used))
    opsets = {o.domain: o for o in proto.opset_import}
    if DOMAIN not in opsets:
        proto.opset_import.append(onnx.helper.make_opsetid(DOMAIN, DOMAIN_VERSION))
    proto.graph.name = name
    proto.producer_name = "isbnet-trt"
    try:
        onnx.checker.check_model(proto, full_check=True)
        onnx.shape_inference.infer_shapes(proto, check_type=True, strict_mode=True)
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError) as e:
        raise ExportError(f"stage {name!r}: exported graph fails the ONNX checks: {e}") from None
    return proto


def _name_dims(values: list[onnx.ValueInfoProto], specs: list[TensorSpec], stage: str) -> None:
    """Give the graph's inputs/outputs the symbolic dim names of their specs (the exporter
    names some `unk__N` or `Min(192, n_cand)`); static dims must agree."""
    if [v.name for v in values] != [s.name for s in specs]:
        raise ExportError(
            f"stage {stage!r}: graph I/O {[v.name for v in values]} != {[s.name for s in specs]}"
        )
    for value, spec in zip(values, specs, strict=True):
        dims = value.type.tensor_type.shape.dim
        if len(dims) != len(spec.dims):
            raise ExportError(f"stage {stage!r}: {spec.name} has rank {len(dims)}, expected {len(spec.dims)}")
        for d, want in zip(dims, spec.dims, strict=True):
            if isinstance(want, str):
                d.Clear()
                d.dim_param = want
            elif d.HasField("dim_value") and d.dim_value != want:
                raise ExportError(f"stage {stage!r}: {spec.name} has dims {dims}, expected {spec.dims}")


def _all_nodes(graph: onnx.GraphProto):
    for node in graph.node:
        yield node
        for attr in node.attribute:
            if attr.type == onnx.AttributeProto.GRAPH:
                yield from _all_nodes(attr.g)
            elif attr.type == onnx.AttributeProto.GRAPHS:
                for g in attr.graphs:
                    yield from _all_nodes(g)


class _quiet_exporter:
    """Silence the exporter's progress and fallback warnings (the result is checked instead)."""

    _LOGGERS = ("torch.onnx", "onnxscript")

    def __enter__(self) -> None:
        self._levels = [logging.getLogger(n).level for n in self._LOGGERS]
        for n in self._LOGGERS:
            logging.getLogger(n).setLevel(logging.ERROR)

    def __exit__(self, *exc: object) -> None:
        for n, level in zip(self._LOGGERS, self._levels, strict=True):
            logging.getLogger(n).setLevel(level)
