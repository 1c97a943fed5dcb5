"""CONTRACT TEST of `plugins/trt_plugins.py` against NVIDIA's real `tensorrt.plugin` sources.

Not a TensorRT run. For each release in `_trt_sources.RELEASES` the real `tensorrt.plugin`
Python package (from the `tensorrt-cu12/cu13-bindings` wheel, fetched at test time, never kept in
the repository) is loaded over `_trt_stub`, a small stand-in for the compiled core, and each
isbnet plugin is driven the way the ONNX parser and the builder drive a quickly deployable AOT
plugin:

1. `register_plugins()` (NVIDIA's decorators validate our signatures and annotations);
2. the parser's `loadFields`: one field per attribute the creator declares, INT -> 1-element
   INT32, FLOAT -> 1-element FLOAT32, STRING -> CHAR with a trailing NUL; `create_plugin(...,
   STRICT_AOT)` (the node's `aot=1`);
3. output count, output types, output shapes for real stage shapes;
4. the type/format combinations offered to the builder;
5. the AOT launch parameters and scalar arguments for those shapes, and the kernel: its name is
   an entry of the PTX and its parameter list is inputs, then the scalars (32-bit), then outputs.

Skips visibly (reason shown with `-rs`) where pip cannot fetch the wheel. The PTX checks need a
CUDA compiler (nvcc or NVRTC) and skip without one.

No `from __future__ import annotations` here: the probe plugins below are validated by
`tensorrt.plugin`, which inspects real annotation objects.
"""

import re
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
import _trt_sources  # noqa: E402
import _trt_stub  # noqa: E402

from isbnet_trt.plugins import cuda_build, trt_plugins  # noqa: E402
from isbnet_trt.plugins.cuda_driver import float32_bits  # noqa: E402

C = cuda_build.launch_constants()
ARCH = 90
FIELD_OF_ONNX = {"INT": "INT32", "FLOAT": "FLOAT32", "STRING": "CHAR"}  # onnx-tensorrt loadFields


@pytest.fixture(scope="module", params=_trt_sources.RELEASES, ids=lambda r: r.label)
def release(request):
    try:
        _trt_sources.plugin_package(request.param)
    except _trt_sources.SourcesUnavailable as e:
        pytest.skip(f"NVIDIA tensorrt.plugin sources unavailable, contract not checked: {e}")
    return request.param


@pytest.fixture(scope="module")
def ptx_text():
    """PTX of the kernels for sm_90, or None without a CUDA compiler (the PTX checks skip)."""
    if not cuda_build.available_compilers():
        return None
    return cuda_build.compile_kernels(ARCH, "ptx").image.decode()


@pytest.fixture
def trt(release, monkeypatch, ptx_text):
    """(stub trt, real trtp) with our plugins registered afresh for this release."""
    monkeypatch.setattr(trt_plugins, "_state", {})
    monkeypatch.setattr(trt_plugins, "_ptx", lambda: (ptx_text or "// no CUDA compiler here\n").encode())
    with _trt_sources.loaded(release) as (trt_mod, trtp):
        trt_plugins.register_plugins(arch=ARCH)
        yield trt_mod, trtp


# ---------------------------------------------------------------- helpers playing parser/builder
def parser_fields(trt, creator, attrs: dict) -> list:
    """onnx-tensorrt `loadFields`: for each field the creator declares, the node's attribute."""
    fields = []
    for declared in creator.field_names:
        value, onnx_type = attrs[declared.name]
        if onnx_type == "INT":
            fields.append(
                trt.PluginField(declared.name, np.array([value], np.int32), trt.PluginFieldType.INT32)
            )
        elif onnx_type == "FLOAT":
            fields.append(
                trt.PluginField(declared.name, np.array([value], np.float32), trt.PluginFieldType.FLOAT32)
            )
        else:
            # copyField(std::string) appends the C string's NUL
            fields.append(trt.PluginField(declared.name, value.encode() + b"\0", trt.PluginFieldType.CHAR))
    return fields


def create(trt, op: str, attrs: dict):
    creator = trt.get_plugin_registry().get_creator(
        op, trt_plugins.PLUGIN_VERSION, trt_plugins.PLUGIN_NAMESPACE
    )
    assert creator is not None, f"isbnet::{op} is not in the plugin registry"
    fc = trt.PluginFieldCollection(parser_fields(trt, creator, attrs))
    return creator, creator.create_plugin(
        op,
        trt_plugins.PLUGIN_NAMESPACE,
        fc,
        trt.TensorRTPhase.BUILD,
        trt.QuickPluginCreationRequest.STRICT_AOT,
    )


def symbolic_inputs(trt, shapes):
    """Input dims as the builder passes them: each dim a (non-constant) expression with a value."""
    exprs = []
    for i, shape in enumerate(shapes):
        d = trt.DimsExprs(len(shape))
        for j, v in enumerate(shape):
            d[j] = trt.IDimensionExpr(v, False, f"in{i}[{j}]")
        exprs.append(d)
    return exprs


def run_plugin(trt, plugin, in_shapes, in_types, combo_index=0):
    """Drive one plugin through type/shape inference, format negotiation and the AOT launch.

    Returns a dict: output types, output shapes (values), offered combinations, launch params,
    scalar arguments (values), kernel name and PTX.
    """
    n_in = len(in_shapes)
    out_types = plugin.get_output_data_types(list(in_types), [len(s) for s in in_shapes])
    builder = trt.IExprBuilder()
    out_exprs = plugin.get_output_shapes(symbolic_inputs(trt, in_shapes), [], builder)
    out_shapes = [tuple(e.value for e in d) for d in out_exprs]

    def dyn(shape, dtype):
        desc = trt.PluginTensorDesc(trt.Dims(tuple(-1 for _ in shape)), dtype, trt.TensorFormat.LINEAR, 1.0)
        return trt.DynamicPluginTensorDesc(desc, trt.Dims(shape), trt.Dims(shape), trt.Dims(shape))

    in_out = [dyn(s, t) for s, t in zip(in_shapes, in_types, strict=True)] + [
        dyn(s, t) for s, t in zip(out_shapes, out_types, strict=True)
    ]
    flat = plugin.get_supported_format_combinations(in_out, n_in)
    n_io = len(in_out)
    combos = [tuple((d.type, d.format) for d in flat[k : k + n_io]) for k in range(0, len(flat), n_io)]
    chosen = combos[combo_index]
    for k, d in enumerate(in_out):
        d.desc.type, d.desc.format = chosen[k]
    plugin.configure_plugin(in_out[:n_in], in_out[n_in:])
    tactics = plugin.get_valid_tactics()
    plugin.set_tactic(tactics[0] if tactics else 0)
    launch, setter = _trt_stub.KernelLaunchParams(), _trt_stub.SymExprs()
    plugin.get_launch_params(symbolic_inputs(trt, in_shapes), in_out, n_in, launch, setter, builder)
    params = {
        k: getattr(launch, k).expr.value
        for k in ("grid_x", "grid_y", "grid_z", "block_x", "block_y", "block_z", "shared_mem")
    }  # noqa: E501
    for k in ("grid_x", "block_x", "shared_mem"):
        assert getattr(launch, k).dtype == trt.PluginArgDataType.INT32
    scalars = [setter.items[i] for i in range(setter.nbSymExprs)]
    assert all(s.type == trt.PluginArgType.INT and s.dtype == trt.PluginArgDataType.INT32 for s in scalars)
    name, ptx = plugin.get_kernel([d.desc for d in in_out[:n_in]], [d.desc for d in in_out[n_in:]])
    return {
        "out_types": list(out_types),
        "out_shapes": out_shapes,
        "combos": combos,
        "launch": params,
        "scalars": [s.expr.value for s in scalars],
        "kernel": name.decode() if isinstance(name, bytes) else name,
        "ptx": ptx.decode() if isinstance(ptx, bytes) else ptx,
    }


def ptx_params(ptx: str, kernel: str) -> list[str]:
    """Types of the `.param` list of `.entry kernel(...)` in PTX order."""
    m = re.search(r"\.entry\s+" + re.escape(kernel) + r"\s*\((.*?)\)", ptx, re.S)
    assert m, f"{kernel} is not an entry of the PTX"
    return re.findall(r"\.param\s+\.(\w+)", m.group(1))


def check_kernel_abi(result, n_in: int, n_out: int) -> None:
    """The PTX entry takes n_in pointers, the scalars (32-bit), n_out pointers, in that order."""
    if result["ptx"].startswith("// no CUDA compiler"):
        pytest.skip("no CUDA compiler (nvcc / NVRTC): PTX parameter list not checked")
    types = ptx_params(result["ptx"], result["kernel"])
    n_sc = len(result["scalars"])
    assert len(types) == n_in + n_sc + n_out, (result["kernel"], types)
    assert types[:n_in] == ["u64"] * n_in and types[n_in + n_sc :] == ["u64"] * n_out
    assert all(t in ("u32", "s32", "b32") for t in types[n_in : n_in + n_sc])


# ---------------------------------------------------------------------------------- the tests
ONNX_OF_TRT = {"FLOAT": "FLOAT", "HALF": "FLOAT16", "INT32": "INT32"}


def check_input_types(combos, op: str) -> None:
    """The input types the plugin offers per position are `trt_plugins.INPUT_TYPES[op]` (what the
    stage contract requires of the exported nodes' inputs)."""
    want = trt_plugins.INPUT_TYPES[op]
    for k, allowed in enumerate(want):
        offered = {ONNX_OF_TRT[c[k][0].name] for c in combos}
        assert offered == set(allowed), (op, k, offered, allowed)


def test_registration_and_declared_fields_match_the_parser(trt):
    trt_mod, trtp = trt
    registry = trt_mod.get_plugin_registry()
    for op, attrs in trt_plugins.ATTRIBUTE_TYPES.items():
        creator = registry.get_creator(op, "1", "isbnet")
        assert creator is not None and creator.plugin_namespace == "isbnet"
        declared = [(f.name, f.type.name) for f in creator.field_names]
        # the order the aot_impl receives them in is the order declared = the spec's order
        assert [n for n, _ in declared] == list(trt_plugins.OPS[op])
        assert declared == [(n, FIELD_OF_ONNX[t]) for n, t in attrs.items()], op
        assert getattr(trtp.op.isbnet, op).num_outputs == trt_plugins.PLUGIN_OUTPUTS[op]
    trt_plugins.register_plugins(arch=ARCH)  # idempotent: no second definition


@pytest.mark.parametrize(
    "n_in, n_out, c_in, c_out, dtype",
    [
        (128_947, 128_947, 32, 32, "FLOAT"),  # level-0 submanifold conv of a 150k-point room
        (128_947, 31_203, 32, 64, "FLOAT"),  # stride-2 down conv
        (31_203, 128_947, 64, 32, "HALF"),  # inverse conv, FP16 engine
        (0, 0, 6, 32, "FLOAT"),  # empty scene: still a valid launch
    ],
)
def test_sparse_conv3d(trt, n_in, n_out, c_in, c_out, dtype):
    trt_mod, _ = trt
    dt = getattr(trt_mod.DataType, dtype)
    creator, plugin = create(trt_mod, "SparseConv3d", {})
    assert plugin.get_num_outputs() == 1
    k = 27 if n_in == n_out else 8
    shapes = [(n_in, c_in), (n_out, k), (k, c_in, c_out)]
    combo = 0 if dtype == "FLOAT" else 1
    r = run_plugin(trt_mod, plugin, shapes, [dt, trt_mod.int32, dt], combo_index=combo)
    assert r["out_types"] == [dt] and r["out_shapes"] == [(n_out, c_out)]
    f32, f16, i32, lin = trt_mod.float32, trt_mod.float16, trt_mod.int32, trt_mod.TensorFormat.LINEAR
    assert set(r["combos"]) == {
        ((f32, lin), (i32, lin), (f32, lin), (f32, lin)),
        ((f16, lin), (i32, lin), (f16, lin), (f16, lin)),
    }
    check_input_types(r["combos"], "SparseConv3d")
    units = -(-n_out // C["ISBNET_SPCONV_TILE_ROWS"]) * -(-c_out // C["ISBNET_SPCONV_SLICE_COLS"])
    assert r["launch"]["grid_x"] == max(1, -(-units // C["ISBNET_SPCONV_WARPS"]))
    assert r["launch"]["block_x"] == 32 * C["ISBNET_SPCONV_WARPS"] and r["launch"]["shared_mem"] == 0
    assert (r["launch"]["grid_y"], r["launch"]["grid_z"]) == (1, 1)
    assert r["scalars"] == [n_in, n_out, k, c_in, c_out]
    assert r["kernel"] == ("isbnet_sparse_conv_f16" if dtype == "HALF" else "isbnet_sparse_conv_f32")
    check_kernel_abi(r, 3, 1)


@pytest.mark.parametrize(
    "n, n_sample, variant",
    [(61_234, 2048, "isbnet"), (100, 2048, "isbnet"), (61_234, 2048, "pointnet2"), (100, 2048, "pointnet2")],
)
def test_farthest_point_sample(trt, n, n_sample, variant):
    from isbnet_trt.plugins.spec import fps_output_size

    trt_mod, _ = trt
    _, plugin = create(
        trt_mod, "FarthestPointSample", {"n_sample": (n_sample, "INT"), "variant": (variant, "STRING")}
    )
    assert plugin.get_num_outputs() == 2 == trt_plugins.PLUGIN_OUTPUTS["FarthestPointSample"]
    r = run_plugin(trt_mod, plugin, [(n, 3)], [trt_mod.float32])
    assert r["out_types"] == [trt_mod.int32, trt_mod.float32]
    assert r["out_shapes"] == [(fps_output_size(n, n_sample, variant),), (n,)]
    lin = trt_mod.TensorFormat.LINEAR
    assert r["combos"] == [((trt_mod.float32, lin), (trt_mod.int32, lin), (trt_mod.float32, lin))]
    check_input_types(r["combos"], "FarthestPointSample")
    assert r["launch"]["grid_x"] == 1 and r["launch"]["block_x"] == C["ISBNET_FPS_THREADS"]
    code = C["ISBNET_FPS_VARIANT_ISBNET" if variant == "isbnet" else "ISBNET_FPS_VARIANT_POINTNET2"]
    assert r["scalars"] == [n, fps_output_size(n, n_sample, variant), code]
    assert r["kernel"] == "isbnet_fps_block"
    check_kernel_abi(r, 1, 2)


@pytest.mark.parametrize(
    "n, m, radius, n_sample", [(61_234, 2048, 0.04, 32), (500, 0, 0.2, 64), (10, 3, 1e-3, 1)]
)
def test_ball_query(trt, n, m, radius, n_sample):
    trt_mod, _ = trt
    _, plugin = create(trt_mod, "BallQuery", {"radius": (radius, "FLOAT"), "n_sample": (n_sample, "INT")})
    assert plugin.get_num_outputs() == 1
    r = run_plugin(trt_mod, plugin, [(n, 3), (m, 3)], [trt_mod.float32, trt_mod.float32])
    assert r["out_types"] == [trt_mod.int32] and r["out_shapes"] == [(m, n_sample)]
    check_input_types(r["combos"], "BallQuery")
    assert r["launch"]["block_x"] == C["ISBNET_BQ_THREADS"]
    assert r["launch"]["grid_x"] == max(1, -(-m * 32 // C["ISBNET_BQ_THREADS"]))
    # the radius reaches the kernel as the bits of the float32 the parser passed
    assert r["scalars"] == [n, m, n_sample, float32_bits(np.float32(radius))]
    assert r["kernel"] == "isbnet_ball_query"
    check_kernel_abi(r, 2, 1)


def test_an_unknown_fps_variant_is_refused(trt):
    trt_mod, _ = trt
    _, plugin = create(
        trt_mod, "FarthestPointSample", {"n_sample": (8, "INT"), "variant": ("fast", "STRING")}
    )
    with pytest.raises(ValueError, match="variant"):
        plugin.get_output_data_types([trt_mod.float32], [2])


# ------------------------------------------- the harness catches the defects it was written for
def test_harness_sees_a_missing_aot_return_annotation(release):
    """Proof that this harness would have caught issue 14 item 1 on this release."""
    with _trt_sources.loaded(release) as (trt_mod, trtp):

        @trtp.register("isbnet_probe::NoAnnotation")
        def _desc(x: trtp.TensorDesc) -> trtp.TensorDesc:
            return x.like()

        with pytest.raises(ValueError, match="No return annotation found for aot_impl"):

            @trtp.aot_impl("isbnet_probe::NoAnnotation")
            def _aot(x, outputs, tactic):
                raise AssertionError("never called")


@pytest.mark.skipif(tuple(int(p) for p in np.__version__.split(".")[:2]) < (2, 4), reason="numpy < 2.4")
def test_harness_sees_int_attributes_break_with_numpy_2_4(release):
    """Item 2: an `int` attribute fed a parser-style 1-element INT32 field. 10.9-10.16 call
    `int(field.data)` (a TypeError with numpy >= 2.4); 11.x reads element 0."""
    with _trt_sources.loaded(release) as (trt_mod, trtp):

        @trtp.register("isbnet_probe::IntAttr")
        def _desc(x: trtp.TensorDesc, k: int) -> trtp.TensorDesc:
            return x.like()

        creator = trt_mod.get_plugin_registry().get_creator("IntAttr", "1", "isbnet_probe")
        fc = trt_mod.PluginFieldCollection(
            [trt_mod.PluginField("k", np.array([4], np.int32), trt_mod.PluginFieldType.INT32)]
        )
        major = int(release.version.split(".")[0])
        if major >= 11:
            creator.create_plugin("IntAttr", "isbnet_probe", fc, trt_mod.TensorRTPhase.BUILD)
        else:
            with pytest.raises(TypeError):
                creator.create_plugin("IntAttr", "isbnet_probe", fc, trt_mod.TensorRTPhase.BUILD)


def test_a_failed_registration_is_not_retried(release, monkeypatch):
    """A registration that fails part-way leaves definitions behind in tensorrt.plugin; the
    second call raises the first error again instead of "already has a definition"."""
    monkeypatch.setattr(trt_plugins, "_state", {})
    with _trt_sources.loaded(release) as (trt_mod, trtp):
        real = trtp.aot_impl
        calls = []

        def failing_aot_impl(plugin_id):
            calls.append(plugin_id)
            if len(calls) == 2:
                raise ValueError("simulated failure in tensorrt.plugin")
            return real(plugin_id)

        monkeypatch.setattr(trtp, "aot_impl", failing_aot_impl)
        with pytest.raises(trt_plugins.TensorRTUnavailableError, match="simulated failure") as first:
            trt_plugins.register_plugins(arch=ARCH)
        with pytest.raises(trt_plugins.TensorRTUnavailableError) as second:
            trt_plugins.register_plugins(arch=ARCH)
        assert second.value is first.value


def test_too_old_a_tensorrt_is_refused(monkeypatch):
    monkeypatch.setattr(trt_plugins, "_state", {})
    saved = _trt_stub.installed_modules()
    for name in saved:
        del sys.modules[name]
    try:
        old = _trt_stub.make_module("10.8.0.43")
        old.plugin = type(sys)("tensorrt.plugin")
        old.plugin.aot_impl = object()
        sys.modules["tensorrt"], sys.modules["tensorrt.plugin"] = old, old.plugin
        with pytest.raises(trt_plugins.TensorRTUnavailableError, match=r"10\.8.*>= 10\.9"):
            trt_plugins.register_plugins(arch=ARCH)
    finally:
        for name in list(_trt_stub.installed_modules()):
            del sys.modules[name]
        sys.modules.update(saved)


# ------------------------------------------------- the TensorRT API our modules call, by name
#: Methods and attributes called on TensorRT objects (not reachable as `trt.<name>` in the code).
TRT_METHODS = {
    # export/tensorrt_engines.py
    "create_network", "create_builder_config", "set_memory_pool_limit", "WORKSPACE", "set_flag",
    "clear_flag", "create_optimization_profile", "set_shape", "add_optimization_profile",
    "build_serialized_network", "parse", "num_errors", "get_error", "node_name", "node_operator",
    "desc", "VERBOSE", "WARNING",
    # runtime/backends/tensorrt.py
    "deserialize_cuda_engine", "create_execution_context", "USER_MANAGED", "num_io_tensors",
    "get_tensor_name", "get_tensor_mode", "get_tensor_dtype", "INPUT", "set_input_shape",
    "set_tensor_address", "get_tensor_shape", "execute_async_v3",
    "update_device_memory_size_for_shapes", "set_device_memory", "device_memory_size_v2",
    # plugins/trt_plugins.py (registry lookups in tests and tools)
    "get_plugin_registry", "get_creator",
}  # fmt: skip
_TRT_ATTR = re.compile(r"\btrt\.([A-Za-z_][A-Za-z0-9_]*)(?:\.([A-Za-z_][A-Za-z0-9_]*))?")


def _trt_names_in_our_code() -> set[str]:
    repo = Path(__file__).resolve().parents[2]
    names = set(TRT_METHODS)
    for rel in ("export/tensorrt_engines.py", "runtime/backends/tensorrt.py", "benchmarks/trt_check.py"):
        for m in _TRT_ATTR.finditer((repo / rel).read_text()):
            names.update(g for g in m.groups() if g)
    return names


def test_every_tensorrt_name_we_call_exists_in_the_bindings(release):
    """Each `trt.<name>` of the engine builder, the runtime and trt_check, and each method they
    call, is an identifier of this release's compiled bindings (a spelling / removal check: the
    bindings' strings are not scoped by class). TensorRT 11 has no BuilderFlag.FP16 (strongly
    typed only); the builder checks `hasattr` and refuses --fp16 there with a message."""
    names = _trt_sources.binding_names(release)
    missing = sorted(n for n in _trt_names_in_our_code() if n not in names)
    assert missing == [], f"{release.label} bindings lack {missing}"
