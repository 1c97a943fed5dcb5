"""Build TensorRT engines from the exported ONNX stages, with the `isbnet::` plugins.

    build_engines(Path("model_export"), Path("engines"), fp16=False, workspace_mib=4096)
    -> {"backbone": Path("engines/backbone.engine"), "aggregator": ..., "decoder_192": ..., ...}

Per stage:
1. `prepare_onnx`: the stage's ONNX with its `isbnet` model-local functions removed and every
   `isbnet::` node annotated with `plugin_namespace="isbnet"`, `plugin_version="1"` and `aot=1`,
   so that the parser's plugin fallback finds our plugin and uses its AOT implementation. Since
   onnx-tensorrt 10.7 the parser prefers a registered plugin over a local function of the same
   op type anyway (`ModelImporter.cpp`, `parseNode`: `isNodeInPluginRegistry` before
   `LocalFunctionImporter`); removing the bodies keeps that choice explicit: with the plugins
   unregistered the parse fails ("Plugin not found") instead of silently inlining the slow
   reference bodies. `isbnet::FarthestPointSample` nodes get a second, unused output (the
   plugin's scratch buffer): since onnx-tensorrt 10.6 `parseNode` requires a node to name
   exactly as many outputs as its layer has. Attribute types are checked against what the
   plugins declare (`trt_plugins.ATTRIBUTE_TYPES`).
2. Parse (`trt.OnnxParser`, errors reported with node names), one optimization profile covering
   the dynamic axes (ranges from the manifest), optional FP16, a workspace limit.
3. `build_serialized_network`, written atomically to `<out_dir>/<stage>.engine`.

The stages and the ranges of their dynamic axes (`[min, opt, max]` per ONNX `dim_param` name,
the manifest's `dims`) come from the export directory's manifest, read by the one manifest reader
(`export.manifest.read_manifest`); `stage_specs` turns it into the build plan. `dim_ranges`
overrides the manifest's ranges.

TensorRT API followed (TensorRT 10 Python API, docs.nvidia.com/deeplearning/tensorrt/latest/
_static/python-api/): `Builder.create_network(0)` (explicit batch is the only mode in 10.x),
`OnnxParser.parse(model, path)` / `num_errors` / `get_error(i)`,
`IBuilderConfig.set_memory_pool_limit(MemoryPoolType.WORKSPACE, bytes)`,
`BuilderFlag.FP16`, `Builder.create_optimization_profile()` / `IOptimizationProfile.set_shape`,
`IBuilderConfig.add_optimization_profile`, `Builder.build_serialized_network`; the parser's
plugin fallback: onnx-tensorrt `ModelImporter.cpp` / `onnxOpImporters.cpp` (`loadFields`: one
field per attribute the creator declares, INT -> INT32, FLOAT -> FLOAT32, STRING -> CHAR;
`plugin_version` / `plugin_namespace`; `aot=1` -> `QuickPluginCreationRequest::kSTRICT_AOT`)
and NVIDIA/TensorRT `samples/python/quickly_deployable_plugins/README.md`.

NOT RUN ON TENSORRT: TensorRT cannot be installed where this was written. `prepare_onnx`, the
manifest reading and the stage graphs (`tests/export/test_trt_stage_contract.py`: output counts,
attribute types, every standard op in onnx-tensorrt's supported list) are tested without it;
`build_engines` needs TensorRT >= 10.9 and a GPU (`benchmarks/trt_check.py`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import onnx
from onnx import helper

from isbnet_trt.export.manifest import Manifest, read_manifest
from isbnet_trt.files import write_atomic
from isbnet_trt.plugins.spec import FPS_SCRATCH_SUFFIX  # name of the unused FPS scratch output
from isbnet_trt.plugins.trt_plugins import (
    ATTRIBUTE_TYPES,
    OPS,
    PLUGIN_NAMESPACE,
    PLUGIN_OUTPUTS,
    PLUGIN_VERSION,
)

__all__ = [
    "EngineBuildError",
    "StageSpec",
    "stage_specs",
    "prepare_onnx",
    "profile_shapes",
    "build_engines",
    "build_engine",
]

DimRange = tuple[int, int, int]
#: Attributes the parser consumes (never passed to the plugin).
_PARSER_ATTRS = ("plugin_namespace", "plugin_version", "aot")


class EngineBuildError(RuntimeError):
    """A stage could not be parsed or built (the message names the stage and the cause)."""


@dataclass(frozen=True)
class StageSpec:
    """One stage of the manifest: name, ONNX path, dynamic-axis ranges by `dim_param`."""

    name: str
    onnx_path: Path
    dims: dict[str, DimRange] = field(default_factory=dict)


def _ranges(raw: object, where: str) -> dict[str, DimRange]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise EngineBuildError(f"{where}: expected a mapping of dim name -> [min, opt, max]")
    out = {}
    for name, value in raw.items():
        try:
            lo, opt, hi = (int(v) for v in value)
        except (TypeError, ValueError):
            raise EngineBuildError(
                f"{where}: dim {name!r} needs [min, opt, max] integers, got {value!r}"
            ) from None
        if not 0 <= lo <= opt <= hi:
            raise EngineBuildError(f"{where}: dim {name!r} needs 0 <= min <= opt <= max, got {[lo, opt, hi]}")
        out[str(name)] = (lo, opt, hi)
    return out


def stage_specs(manifest: Manifest) -> list[StageSpec]:
    """The build plan of an export: per stage, its ONNX file and the ranges of the dynamic axes
    (the manifest's `dims`)."""
    dims = _ranges(manifest.dims, str(manifest.directory))
    return [StageSpec(stage.name, stage.path, dims) for stage in manifest.stages.values()]


def prepare_onnx(model: onnx.ModelProto) -> onnx.ModelProto:
    """A copy of `model` for the TensorRT parser: `isbnet` local functions removed, `isbnet::`
    nodes annotated for the plugin fallback, FPS nodes given their plugin's second output
    (module docstring); a graph without them (the mask head) passes through unchanged.
    Idempotent. Raises `EngineBuildError` for an unknown `isbnet` op, a node lacking an
    attribute its plugin takes (the AOT plugin receives attributes positionally, so none may be
    missing), an attribute of another type than the plugin's field, or a node with more outputs
    than its plugin."""
    out = onnx.ModelProto()
    out.CopyFrom(model)
    kept = [f for f in out.functions if f.domain != PLUGIN_NAMESPACE]
    del out.functions[:]
    out.functions.extend(kept)
    for graph in _graphs(out.graph):
        for node in graph.node:
            if node.domain != PLUGIN_NAMESPACE:
                continue
            if node.op_type not in OPS:
                raise EngineBuildError(
                    f"node {node.name!r}: unknown op isbnet::{node.op_type} (known: {sorted(OPS)})"
                )
            present = {a.name for a in node.attribute}
            missing = [a for a in OPS[node.op_type] if a not in present]
            if missing:
                raise EngineBuildError(
                    f"node {node.name!r} (isbnet::{node.op_type}) lacks attributes {missing}"
                )
            for a in node.attribute:
                want = ATTRIBUTE_TYPES[node.op_type].get(a.name)
                if want is not None and a.type != onnx.AttributeProto.AttributeType.Value(want):
                    got = onnx.AttributeProto.AttributeType.Name(a.type)
                    raise EngineBuildError(
                        f"node {node.name!r} (isbnet::{node.op_type}): attribute {a.name!r} must be "
                        f"{want} (the plugin's field type), got {got}"
                    )
            n_out = PLUGIN_OUTPUTS[node.op_type]
            if len(node.output) > n_out:
                raise EngineBuildError(
                    f"node {node.name!r} (isbnet::{node.op_type}) has {len(node.output)} outputs, "
                    f"its plugin {n_out}"
                )
            while len(node.output) < n_out:  # the FPS scratch buffer: named, never read
                node.output.append(f"{node.output[0]}{FPS_SCRATCH_SUFFIX}{len(node.output)}")
            kept_attrs = [a for a in node.attribute if a.name not in _PARSER_ATTRS]
            del node.attribute[:]
            node.attribute.extend(kept_attrs)
            node.attribute.extend(
                [
                    helper.make_attribute("plugin_namespace", PLUGIN_NAMESPACE),
                    helper.make_attribute("plugin_version", PLUGIN_VERSION),
                    helper.make_attribute("aot", 1),
                ]
            )
    return out


def _graphs(graph: onnx.GraphProto):
    """`graph` and every subgraph (If / Loop bodies) in it."""
    yield graph
    for node in graph.node:
        for attr in node.attribute:
            if attr.type == onnx.AttributeProto.GRAPH:
                yield from _graphs(attr.g)
            elif attr.type == onnx.AttributeProto.GRAPHS:
                for g in attr.graphs:
                    yield from _graphs(g)


def profile_shapes(model: onnx.ModelProto, spec: StageSpec) -> dict[str, tuple[tuple[int, ...], ...]]:
    """(min, opt, max) shape of every graph input with a dynamic axis, from `spec`.

    Static inputs are left out (TensorRT needs no profile entry for them). Raises
    `EngineBuildError` naming the axes without a range.
    """
    initializers = {i.name for i in model.graph.initializer}
    shapes: dict[str, tuple[tuple[int, ...], ...]] = {}
    missing: list[str] = []
    for inp in model.graph.input:
        if inp.name in initializers:
            continue
        dims = inp.type.tensor_type.shape.dim
        if all(d.HasField("dim_value") for d in dims):
            continue
        lo, opt, hi = [], [], []
        for axis, d in enumerate(dims):
            if d.HasField("dim_value"):
                for s in (lo, opt, hi):
                    s.append(d.dim_value)
            elif d.dim_param in spec.dims:
                r = spec.dims[d.dim_param]
                lo.append(r[0])
                opt.append(r[1])
                hi.append(r[2])
            else:
                missing.append(f"{inp.name}[{axis}] ({d.dim_param or 'unnamed'})")
        shapes[inp.name] = (tuple(lo), tuple(opt), tuple(hi))
    if missing:
        raise EngineBuildError(
            f"stage {spec.name!r}: no [min, opt, max] range for dynamic axes {', '.join(missing)} "
            "(add them to the manifest's 'dims' or pass dim_ranges)"
        )
    return shapes


def build_engines(
    export_dir: Path,
    out_dir: Path,
    fp16: bool,
    workspace_mib: int,
    *,
    dim_ranges: Mapping[str, DimRange] | None = None,
    verbose: bool = False,
    logger: object | None = None,
) -> dict[str, Path]:
    """Build one engine per stage of the export in `export_dir` into `out_dir` (`<stage>.engine`);
    returns name -> path.

    fp16: allow FP16 kernels (TensorRT's `BuilderFlag.FP16`); workspace_mib: builder workspace
    limit. Registers the `isbnet::` plugins (PTX for the build GPU). logger: a `trt.ILogger`
    (default: `trt.Logger`, VERBOSE when `verbose`). Raises `EngineBuildError` (parse or build
    failure, missing ranges), `ManifestError` (no readable export) or `TensorRTUnavailableError`.
    """
    from isbnet_trt.plugins.trt_plugins import register_plugins

    if workspace_mib < 1:
        raise ValueError(f"workspace_mib must be >= 1, got {workspace_mib}")
    specs = stage_specs(read_manifest(export_dir))
    register_plugins()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    built = {}
    for spec in specs:
        if dim_ranges:
            spec = StageSpec(spec.name, spec.onnx_path, {**spec.dims, **dict(dim_ranges)})
        path = out_dir / f"{spec.name}.engine"
        write_atomic(path, build_engine(spec, fp16, workspace_mib, verbose, logger))
        built[spec.name] = path
    return built


def build_engine(
    spec: StageSpec, fp16: bool, workspace_mib: int, verbose: bool = False, logger: object | None = None
) -> bytes:
    """The serialized engine of one stage (plugins must be registered: see `build_engines`)."""
    import tensorrt as trt

    try:
        model = onnx.load(str(spec.onnx_path), load_external_data=False)
    except Exception as e:  # noqa: BLE001 - onnx raises DecodeError / OSError variants
        raise EngineBuildError(f"stage {spec.name!r}: cannot read {spec.onnx_path}: {e}") from None
    shapes = profile_shapes(model, spec)
    prepared = prepare_onnx(model)

    if logger is None:
        logger = trt.Logger(trt.Logger.VERBOSE if verbose else trt.Logger.WARNING)
    builder = trt.Builder(logger)
    network = builder.create_network(0)
    parser = trt.OnnxParser(network, logger)
    # The path lets the parser find external weight files beside the model.
    if not parser.parse(prepared.SerializeToString(), str(spec.onnx_path)):
        errors = "\n".join(_parser_error(parser.get_error(i)) for i in range(parser.num_errors))
        raise EngineBuildError(f"stage {spec.name!r}: TensorRT could not parse {spec.onnx_path}:\n{errors}")

    config = builder.create_builder_config()
    config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, int(workspace_mib) << 20)
    if hasattr(trt.BuilderFlag, "TF32"):
        # TensorRT enables TF32 by default (10-bit mantissa inputs to FP32 matmuls/convs); in the
        # PyTorch GPU path TF32 changed instances (mask IoU down to 0.63, docs/gpu.md): off.
        config.clear_flag(trt.BuilderFlag.TF32)
    if fp16:
        if not hasattr(trt.BuilderFlag, "FP16"):
            raise EngineBuildError(
                "this TensorRT has no BuilderFlag.FP16 (strongly typed only): export FP16 ONNX"
            )
        config.set_flag(trt.BuilderFlag.FP16)
    if shapes:
        profile = builder.create_optimization_profile()
        for name, (lo, opt, hi) in shapes.items():
            profile.set_shape(name, lo, opt, hi)
        config.add_optimization_profile(profile)
    serialized = builder.build_serialized_network(network, config)
    if serialized is None:
        raise EngineBuildError(
            f"stage {spec.name!r}: TensorRT failed to build the engine (see the log above)"
        )
    return bytes(serialized)


def _parser_error(err: object) -> str:
    """One line per `IParserError`: node name, operator, description."""
    try:
        return f"node {err.node_name()!r} ({err.node_operator()}): {err.desc()}"  # type: ignore[attr-defined]
    except AttributeError:  # older bindings without the node accessors
        return str(err)
