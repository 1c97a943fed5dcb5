"""What the TensorRT ONNX parser will meet in an export, checked without TensorRT.

`tensorrt_problems(export_dir)` prepares every stage as `build_engines` does (`prepare_onnx`) and
lists what would stop or change the parse:

* each `isbnet::` node names as many outputs as its plugin has (onnx-tensorrt >= 10.6 refuses
  a mismatch), carries exactly its plugin's attributes (plus the parser's), each of the ONNX type
  the parser turns into the plugin's field type (`trt_plugins.ATTRIBUTE_TYPES`), and has the
  plugin's inputs with element types it takes (`trt_plugins.INPUT_TYPES`, from the export's
  value_info and ONNX shape inference); the contract test checks the plugins declare exactly
  those fields and types;
* every standard op is in onnx-tensorrt's supported-operator tables of 10.1 and 10.15
  (`export/onnx_tensorrt_ops.py`), with the table's restrictions that apply here (CumSum axis,
  TopK K, Squeeze/Unsqueeze/Reduce axes constant, no Scatter reduction) and no DOUBLE tensors
  (TensorRT demotes DOUBLE to FLOAT, silently changing results);
* no `isbnet` function body is left, the default opset is one both tables cover (9-20), and
  every dynamic axis has a profile range in the manifest.
"""

from __future__ import annotations

from pathlib import Path

import onnx

from isbnet_trt.export.manifest import read_manifest
from isbnet_trt.export.onnx_tensorrt_ops import SUPPORTED, SUPPORTED_10_1
from isbnet_trt.export.tensorrt_engines import _graphs, prepare_onnx, profile_shapes, stage_specs
from isbnet_trt.plugins.trt_plugins import ATTRIBUTE_TYPES, INPUT_TYPES, PLUGIN_NAMESPACE, PLUGIN_OUTPUTS

_PARSER_ATTRS = {"plugin_namespace": "STRING", "plugin_version": "STRING", "aot": "INT"}
#: op -> (input index that must be a build-time constant, whether the input is required)
_CONSTANT_INPUTS = {
    "CumSum": (1, True),
    "TopK": (1, True),
    "Squeeze": (1, False),
    "Unsqueeze": (1, False),
    **{
        f"Reduce{r}": (1, False)
        for r in ("L1", "L2", "LogSum", "LogSumExp", "Max", "Mean", "Min", "Prod", "Sum", "SumSquare")
    },
}


def _constants(graph: onnx.GraphProto) -> set[str]:
    names = {i.name for i in graph.initializer}
    names |= {o for n in graph.node if n.op_type == "Constant" for o in n.output}
    return names


def stage_problems(model: onnx.ModelProto) -> list[str]:
    """Problems of one stage graph (empty: nothing known to stop the parser)."""
    problems = []
    prepared = prepare_onnx(model)
    types = _element_types(prepared)
    if any(f.domain == PLUGIN_NAMESPACE for f in prepared.functions):
        problems.append("isbnet function bodies left in the graph")
    opset = next((o.version for o in prepared.opset_import if o.domain in ("", "ai.onnx")), None)
    if opset is None or not 9 <= opset <= 20:
        problems.append(f"default opset {opset} outside 9..20 (onnx-tensorrt 10.1 supports 9-20)")
    for graph in _graphs(prepared.graph):
        constants = _constants(graph)
        for t in graph.initializer:
            if t.data_type == onnx.TensorProto.DOUBLE:
                problems.append(f"initializer {t.name!r} is DOUBLE")
        for node in graph.node:
            where = f"node {node.name or node.output[0]!r} ({node.domain or 'ai.onnx'}::{node.op_type})"
            attrs = {a.name: onnx.AttributeProto.AttributeType.Name(a.type) for a in node.attribute}
            if node.domain == PLUGIN_NAMESPACE:
                if node.op_type not in PLUGIN_OUTPUTS:
                    problems.append(f"{where}: no plugin")
                    continue
                if len(node.output) != PLUGIN_OUTPUTS[node.op_type]:
                    problems.append(
                        f"{where}: {len(node.output)} outputs, plugin {PLUGIN_OUTPUTS[node.op_type]}"
                    )
                want = {**ATTRIBUTE_TYPES[node.op_type], **_PARSER_ATTRS}
                if attrs != want:
                    problems.append(f"{where}: attributes {attrs}, plugin and parser take {want}")
                inputs = INPUT_TYPES[node.op_type]
                if len(node.input) != len(inputs):
                    problems.append(f"{where}: {len(node.input)} inputs, plugin {len(inputs)}")
                for name, allowed in zip(node.input, inputs, strict=False):
                    got = types.get(name, "unknown")
                    if got not in allowed:
                        problems.append(f"{where}: input {name!r} is {got}, plugin takes {allowed}")
                continue
            if node.domain not in ("", "ai.onnx"):
                problems.append(f"{where}: unknown domain")
                continue
            if node.op_type not in SUPPORTED or node.op_type not in SUPPORTED_10_1:
                problems.append(f"{where}: not in onnx-tensorrt's supported operators (10.1 and 10.15)")
            k, required = _CONSTANT_INPUTS.get(node.op_type, (None, False))
            present = k is not None and len(node.input) > k and node.input[k]
            if k is not None and (required or present) and not (present and node.input[k] in constants):
                problems.append(f"{where}: input {k} must be a build-time constant")
            if node.op_type.startswith("Scatter") and _reduction(node) != "none":
                problems.append(f"{where}: reduction {_reduction(node)!r} is unsupported")
            if node.op_type == "Cast" and _cast_to(node) == onnx.TensorProto.DOUBLE:
                problems.append(f"{where}: casts to DOUBLE (TensorRT runs it as FLOAT)")
    return problems


def _element_types(model: onnx.ModelProto) -> dict[str, str]:
    """Element type name of every tensor the export or ONNX shape inference knows."""
    inferred = onnx.shape_inference.infer_shapes(model)
    out = {}
    for graph in _graphs(inferred.graph):
        for v in list(graph.value_info) + list(graph.input) + list(graph.output):
            if v.type.tensor_type.elem_type:
                out[v.name] = onnx.TensorProto.DataType.Name(v.type.tensor_type.elem_type)
        for t in graph.initializer:
            out[t.name] = onnx.TensorProto.DataType.Name(t.data_type)
        for n in graph.node:
            if n.op_type == "Constant":
                for a in n.attribute:
                    if a.name == "value":
                        out[n.output[0]] = onnx.TensorProto.DataType.Name(a.t.data_type)
    return out


def _reduction(node: onnx.NodeProto) -> str:
    for a in node.attribute:
        if a.name == "reduction":
            return a.s.decode()
    return "none"


def _cast_to(node: onnx.NodeProto) -> int:
    return next(a.i for a in node.attribute if a.name == "to")


def tensorrt_problems(export_dir: Path) -> dict[str, list[str]]:
    """stage name -> problems, for every stage of an export directory (manifest.json)."""
    out = {}
    for spec in stage_specs(read_manifest(export_dir)):
        model = onnx.load(str(spec.onnx_path), load_external_data=False)
        problems = stage_problems(model)
        try:
            profile_shapes(model, spec)
        except Exception as e:  # noqa: BLE001 - EngineBuildError names the axes without a range
            problems.append(str(e))
        out[spec.name] = problems
    return out


def isbnet_nodes(export_dir: Path) -> dict[str, int]:
    """op type -> number of `isbnet::` nodes over all stages (to see that each op was met)."""
    counts: dict[str, int] = {}
    for spec in stage_specs(read_manifest(export_dir)):
        model = onnx.load(str(spec.onnx_path), load_external_data=False)
        for graph in _graphs(model.graph):
            for node in graph.node:
                if node.domain == PLUGIN_NAMESPACE:
                    counts[node.op_type] = counts.get(node.op_type, 0) + 1
    return counts
