"""Engine building: the ONNX rewrite for the TensorRT parser and the manifest reading run here;
the build itself needs TensorRT and skips visibly without it."""

from __future__ import annotations

import json
from pathlib import Path

import onnx
import pytest
from onnx import TensorProto, helper

from isbnet_trt.export.manifest import MANIFEST_NAME, ManifestError, read_manifest
from isbnet_trt.export.tensorrt_engines import (
    EngineBuildError,
    StageSpec,
    prepare_onnx,
    profile_shapes,
    stage_specs,
)


def _stage_model(with_function: bool = True, fps_attrs: dict | None = None) -> onnx.ModelProto:
    """xyz (n_points, 3) -> FPS -> ball query, with an `isbnet` local function like the export's."""
    attrs = {"n_sample": 4, "variant": "isbnet"} if fps_attrs is None else fps_attrs
    fps = helper.make_node("FarthestPointSample", ["xyz"], ["idx"], domain="isbnet", name="fps", **attrs)
    gather = helper.make_node("Gather", ["xyz", "idx"], ["centres"], axis=0, name="gather")
    bq = helper.make_node(
        "BallQuery", ["xyz", "centres"], ["nb"], domain="isbnet", name="bq", radius=0.2, n_sample=8
    )
    graph = helper.make_graph(
        [fps, gather, bq],
        "stage",
        [helper.make_tensor_value_info("xyz", TensorProto.FLOAT, ["n_points", 3])],
        [helper.make_tensor_value_info("nb", TensorProto.INT32, [4, 8])],
    )
    functions = []
    if with_function:
        body = helper.make_node("Identity", ["xyz"], ["indices"])
        functions.append(
            helper.make_function(
                "isbnet",
                "FarthestPointSample",
                ["xyz"],
                ["indices"],
                [body],
                [helper.make_opsetid("", 17)],
                ["n_sample", "variant"],
            )  # fmt: skip
        )
    return helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("isbnet", 1)],
        functions=functions,
    )


def _attrs(node: onnx.NodeProto) -> dict:
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def test_prepare_removes_local_functions_and_annotates_plugin_nodes():
    model = _stage_model()
    out = prepare_onnx(model)
    assert len(model.functions) == 1 and len(out.functions) == 0  # input untouched
    fps, _, bq = out.graph.node
    assert _attrs(fps) == {
        "n_sample": 4,
        "variant": b"isbnet",
        "plugin_namespace": b"isbnet",
        "plugin_version": b"1",
        "aot": 1,
    }
    assert _attrs(bq)["plugin_namespace"] == b"isbnet" and _attrs(bq)["radius"] == pytest.approx(0.2)
    assert "plugin_namespace" not in _attrs(out.graph.node[1])  # standard ops untouched
    # the FPS plugin has a second output (its scratch buffer); the parser needs the node to name it
    assert list(model.graph.node[0].output) == ["idx"]
    assert list(fps.output) == ["idx", "idx__isbnet_fps_scratch1"] and list(bq.output) == ["nb"]
    again = prepare_onnx(out)  # idempotent: no duplicate attributes or outputs
    assert len(again.graph.node[0].attribute) == 5 and len(again.graph.node[0].output) == 2


def test_prepare_refuses_nodes_the_plugins_cannot_take():
    with pytest.raises(EngineBuildError, match=r"lacks attributes \['variant'\]"):
        prepare_onnx(_stage_model(fps_attrs={"n_sample": 4}))
    model = _stage_model()
    model.graph.node[0].op_type = "Voxelize"
    with pytest.raises(EngineBuildError, match="unknown op isbnet::Voxelize"):
        prepare_onnx(model)
    # the parser turns INT into an INT32 field: a FLOAT n_sample would not match the plugin
    with pytest.raises(EngineBuildError, match=r"'n_sample' must be INT .* got FLOAT"):
        prepare_onnx(_stage_model(fps_attrs={"n_sample": 4.0, "variant": "isbnet"}))
    model = _stage_model()
    model.graph.node[2].output.append("extra")
    with pytest.raises(EngineBuildError, match="has 2 outputs, its plugin 1"):
        prepare_onnx(model)
    plain = helper.make_model(
        helper.make_graph(
            [helper.make_node("Relu", ["x"], ["y"])],
            "g",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])],
        )
    )
    assert prepare_onnx(plain) == plain  # a stage without custom ops (the mask head) is parsed as is


def _one_model_export(light_export: Path, folder: Path, dims: object) -> Path:
    """A copy of a real export's manifest in `folder` whose every stage is the small FPS ->
    ball-query graph, with the given `dims`: the manifest reader's rules hold, the graphs are tiny."""
    doc = json.loads((light_export / MANIFEST_NAME).read_text())
    folder.mkdir(parents=True, exist_ok=True)
    onnx.save(_stage_model(), folder / "stage.onnx")
    for stage in doc["stages"]:
        stage["onnx"] = "stage.onnx"
    doc["dims"] = dims
    (folder / MANIFEST_NAME).write_text(json.dumps(doc))
    return folder


def test_stage_specs_come_from_the_one_manifest_reader(light_export, tmp_path):
    export_dir = _one_model_export(light_export, tmp_path, {"n_points": [1, 5000, 200000]})
    specs = stage_specs(read_manifest(export_dir))
    assert [s.name for s in specs] == [
        e["name"] for e in json.loads((light_export / MANIFEST_NAME).read_text())["stages"]
    ]
    assert all(
        s.onnx_path == tmp_path / "stage.onnx" and s.dims == {"n_points": (1, 5000, 200000)} for s in specs
    )


@pytest.mark.parametrize(
    "dims, message",
    [
        ({"n": [5, 1, 9]}, "min <= opt <= max"),
        ({"n": [1, 2]}, "needs \\[min, opt, max\\] integers"),
        ([1, 2, 3], "expected a mapping"),
    ],
)
def test_bad_dim_ranges_are_clear(light_export, tmp_path, dims, message):
    export_dir = _one_model_export(light_export, tmp_path, dims)
    with pytest.raises(EngineBuildError, match=message):
        stage_specs(read_manifest(export_dir))


def test_build_engines_reads_the_export_directory(tmp_path):
    from isbnet_trt.export.tensorrt_engines import build_engines

    with pytest.raises(ManifestError, match="not an isbnet-trt export directory"):
        build_engines(tmp_path, tmp_path / "engines", fp16=False, workspace_mib=64)


def test_profile_shapes_from_dim_names():
    model = _stage_model()
    tmp = Path("s.onnx")
    spec = StageSpec("s", tmp, {"n_points": (8, 1000, 50000)})
    assert profile_shapes(model, spec) == {"xyz": ((8, 3), (1000, 3), (50000, 3))}
    with pytest.raises(EngineBuildError, match=r"xyz\[0\] \(n_points\)"):
        profile_shapes(model, StageSpec("s", tmp))


def test_build_engines_needs_tensorrt(light_export, tmp_path):
    pytest.importorskip("tensorrt", reason="TensorRT not installed: engine build not tested here")
    from isbnet_trt.export.tensorrt_engines import build_engines

    export_dir = _one_model_export(light_export, tmp_path, {"n_points": [8, 512, 4096]})
    engines = build_engines(export_dir, tmp_path / "engines", fp16=False, workspace_mib=256)
    assert all(path.stat().st_size > 0 for path in engines.values())


def test_every_exported_stage_is_ready_for_the_parser(light_export):
    """A real export (the session's export of the golden checkpoint): every stage has profile
    ranges for all its dynamic axes and every isbnet:: node is annotated for its plugin. Stops
    short of TensorRT (the full stage contract: test_trt_stage_contract.py)."""
    out = light_export
    specs = stage_specs(read_manifest(out))
    assert {s.name for s in specs} >= {"backbone", "aggregator"}
    for spec in specs:
        model = onnx.load(str(spec.onnx_path))
        assert profile_shapes(model, spec)  # every stage has dynamic axes, all with ranges
        prepared = prepare_onnx(model)
        assert not [f for f in prepared.functions if f.domain == "isbnet"]
        plugin_nodes = [n for n in prepared.graph.node if n.domain == "isbnet"]
        assert (spec.name == "mask_head") != bool(plugin_nodes)  # only the mask head has no custom op
        assert all(_attrs(n)["plugin_namespace"] == b"isbnet" for n in plugin_nodes)


class _FakeTensorRT:
    """Just enough of the `tensorrt` builder API for `build_engines`' own logic (not TensorRT)."""

    def __init__(self, fp16: bool = True, parse_ok: bool = True, build_ok: bool = True):
        import types

        self.calls: dict = {"shapes": {}, "flags_set": [], "flags_cleared": []}
        fake = self
        flags = ["TF32"] + (["FP16"] if fp16 else [])
        self.module = types.SimpleNamespace(
            __version__="10.9.0.34",
            Logger=type("Logger", (), {"VERBOSE": 4, "WARNING": 2, "__init__": lambda self, sev=2: None}),
            MemoryPoolType=types.SimpleNamespace(WORKSPACE="WORKSPACE"),
            BuilderFlag=types.SimpleNamespace(**{f: f for f in flags}),
        )

        class Error:
            def node_name(self):
                return "fps"

            def node_operator(self):
                return "FarthestPointSample"

            def desc(self):
                return "Plugin not found"

        class Parser:
            num_errors = 0 if parse_ok else 1

            def __init__(self, network, logger):
                pass

            def parse(self, data, path):
                fake.calls["model"] = onnx.load_from_string(data)
                fake.calls["path"] = path
                return parse_ok

            def get_error(self, i):
                return Error()

        class Profile:
            def set_shape(self, name, lo, opt, hi):
                fake.calls["shapes"][name] = (lo, opt, hi)

        class Config:
            def set_memory_pool_limit(self, pool, size):
                fake.calls["workspace"] = size

            def set_flag(self, f):
                fake.calls["flags_set"].append(f)

            def clear_flag(self, f):
                fake.calls["flags_cleared"].append(f)

            def add_optimization_profile(self, p):
                fake.calls["profiles"] = fake.calls.get("profiles", 0) + 1

        class Builder:
            def __init__(self, logger):
                pass

            def create_network(self, flags):
                assert flags == 0
                return object()

            def create_builder_config(self):
                return Config()

            def create_optimization_profile(self):
                return Profile()

            def build_serialized_network(self, network, config):
                return b"engine-bytes" if build_ok else None

        self.module.OnnxParser, self.module.Builder = Parser, Builder


@pytest.fixture
def staged(light_export, tmp_path) -> Path:
    """An export directory whose every stage is the small FPS -> ball-query graph."""
    return _one_model_export(light_export, tmp_path / "export", {"n_points": [8, 512, 4096]})


def _with_fake(monkeypatch, fake):
    import sys

    from isbnet_trt.plugins import trt_plugins

    monkeypatch.setitem(sys.modules, "tensorrt", fake.module)
    monkeypatch.setattr(trt_plugins, "register_plugins", lambda arch=None: None)


def test_build_engines_drives_the_builder_as_documented(staged, tmp_path, monkeypatch):
    """The builder API as `build_engine` calls it, on a fake: what reaches the parser is the
    prepared graph, the profile comes from the manifest, TF32 is cleared, FP16 set when asked."""
    from isbnet_trt.export.tensorrt_engines import build_engines

    fake = _FakeTensorRT()
    _with_fake(monkeypatch, fake)
    out = build_engines(staged, tmp_path / "engines", fp16=True, workspace_mib=256)
    assert out.keys() >= {"backbone", "aggregator", "mask_head"}
    assert all(path.read_bytes() == b"engine-bytes" for path in out.values())
    parsed = fake.calls["model"]
    assert not parsed.functions and len(parsed.graph.node[0].output) == 2  # prepared: FPS scratch
    assert fake.calls["path"] == str(staged / "stage.onnx")
    assert fake.calls["shapes"] == {"xyz": ((8, 3), (512, 3), (4096, 3))} and fake.calls["profiles"] == len(
        out
    )
    assert fake.calls["workspace"] == 256 << 20
    assert fake.calls["flags_cleared"] == ["TF32"] * len(out)
    assert fake.calls["flags_set"] == ["FP16"] * len(out)


def test_build_failures_are_engine_build_errors(staged, tmp_path, monkeypatch):
    from isbnet_trt.export.tensorrt_engines import build_engines

    _with_fake(monkeypatch, _FakeTensorRT(parse_ok=False))
    with pytest.raises(EngineBuildError, match=r"could not parse[\s\S]*node 'fps' \(FarthestPointSample\)"):
        build_engines(staged, tmp_path / "e1", fp16=False, workspace_mib=64)
    _with_fake(monkeypatch, _FakeTensorRT(build_ok=False))
    with pytest.raises(EngineBuildError, match="failed to build"):
        build_engines(staged, tmp_path / "e2", fp16=False, workspace_mib=64)
    _with_fake(monkeypatch, _FakeTensorRT(fp16=False))  # TensorRT 11: strongly typed only
    with pytest.raises(EngineBuildError, match="no BuilderFlag.FP16"):
        build_engines(staged, tmp_path / "e3", fp16=True, workspace_mib=64)
    assert not list((tmp_path / "e1").glob("*.engine"))
