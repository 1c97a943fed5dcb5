"""Checkpoint -> export directory: the ONNX stages, `manifest.json`, and TensorRT engines.

    python export/build_engine.py --ckpt model.pth [--config cfg.yaml] --out DIR
        [--fp16] [--opset 17] [--workspace MiB] [--backends onnx,tensorrt]

(also `isbnet-trt export ...`). The config is `--config`, else inferred: the one config among
`<ckpt>.yaml`, `config.yaml` beside the checkpoint, the YAMLs of `$ISBNET_TRT_CONFIGS`
(colon-separated directories) and the demo config whose model has exactly the checkpoint's
keys and shapes (`isbnet.checkpoint.resolve_config`); the official configs are not shipped yet,
so point `$ISBNET_TRT_CONFIGS` at them or pass `--config`.

Atomic: everything is written into a temporary sibling of DIR, renamed to DIR at the end (an
existing export in DIR is replaced; any other non-empty DIR is refused). On failure nothing is
left, one line is printed and the exit status is 2.

TensorRT engines are built last, where `tensorrt` is installed. A failed engine build (the parser
or builder refused a stage, TensorRT too old, no GPU, ...) does not cost the export: DIR is
written with the ONNX stages and a manifest without engines (usable with onnxruntime, and the
TensorRT backend builds on first use), the full error goes to `DIR/tensorrt_build_error.txt`,
and the command prints one line and exits 2 (`EngineBuildFailed`).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import os
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path

import onnx
import torch

import isbnet_trt
from isbnet_trt.errors import IsbnetError
from isbnet_trt.export.cache import cache_entry, is_valid_export
from isbnet_trt.export.custom_ops import DOMAIN, DOMAIN_VERSION, SCHEMAS
from isbnet_trt.export.manifest import (
    FORMAT,
    FORMAT_VERSION,
    MANIFEST_NAME,
    dim_ranges,
    read_manifest,
    write_manifest,
)
from isbnet_trt.export.onnx_export import DEFAULT_OPSET, MIN_OPSET, ExportError, export_stage
from isbnet_trt.export.stages import decoder_name, stage_io
from isbnet_trt.isbnet.checkpoint import build_model, content_digest, read_state_dict, resolve_config
from isbnet_trt.isbnet.config import ModelConfig, load_config
from isbnet_trt.isbnet.model import ISBNet

BACKENDS = ("onnx", "tensorrt")
#: Full text of a failed engine build, written into the export directory.
ENGINE_ERROR_FILE = "tensorrt_build_error.txt"
Log = Callable[[str], None]


class EngineBuildFailed(ExportError):
    """The ONNX stages were exported, the TensorRT engines were not (the message says why and
    where the details are)."""


def export_model(model: ISBNet, out_dir: Path, opset: int = DEFAULT_OPSET, log: Log = print) -> dict:
    """Write every stage of `model` into the existing directory `out_dir`; returns the manifest
    document without the checkpoint fields (see `export.manifest`)."""
    cfg = model.cfg
    if cfg.semantic_only:
        raise ExportError(f"config {cfg.name!r} is semantic-only: no instance stages to export")
    stages = []
    for name, (inputs, outputs) in stage_io(cfg).items():
        start = time.perf_counter()
        path = out_dir / f"{name}.onnx"
        export_stage(model, name, path, opset)
        entry = {
            "name": name,
            "onnx": path.name,
            "sha256": _sha256(path),
            "inputs": [s.to_dict() for s in inputs],
            "outputs": [s.to_dict() for s in outputs],
        }
        if name.startswith("decoder_"):
            entry["n_sample"] = int(name.removeprefix("decoder_"))
        stages.append(entry)
        size_mib, seconds = path.stat().st_size / 2**20, time.perf_counter() - start
        log(f"  {name}: {path.name} ({size_mib:.1f} MiB, {seconds:.1f} s)")
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "package_version": isbnet_trt.__version__,
        "opset": opset,
        "custom_ops": {"domain": DOMAIN, "version": DOMAIN_VERSION, "ops": sorted(SCHEMAS)},
        "config": cfg.to_dict(),
        "n_sample_rounds": list(cfg.n_sample_rounds),
        "decoders": {str(n): decoder_name(n) for n in sorted(set(cfg.n_sample_rounds))},
        "tools": _tool_versions(),
        "dims": dim_ranges(cfg),
        "stages": stages,
    }


def export_checkpoint(
    checkpoint: str | Path,
    out_dir: str | Path,
    config: str | Path | ModelConfig | None = None,
    opset: int = DEFAULT_OPSET,
    fp16: bool = False,
    workspace_mib: int = 4096,
    backends: Sequence[str] = BACKENDS,
    log: Log = print,
) -> Path:
    """Export `checkpoint` into `out_dir` atomically (module docstring); returns `out_dir`."""
    checkpoint, out_dir = Path(checkpoint), Path(out_dir)
    unknown = [b for b in backends if b not in BACKENDS]
    if unknown or "onnx" not in backends:
        raise ExportError(f"--backends must list onnx and optionally tensorrt, got {','.join(backends)}")
    if opset < MIN_OPSET:
        raise ExportError(
            f"--opset {opset} is too old: the isbnet:: function bodies need opset >= {MIN_OPSET}"
        )
    _check_destination(out_dir)
    state_dict = read_state_dict(checkpoint)
    if isinstance(config, ModelConfig):
        cfg = config
    elif config is not None:
        cfg = load_config(config)
    else:
        cfg = resolve_config(checkpoint)
    model = build_model(cfg, state_dict)  # CheckpointError on a mismatch
    log(f"exporting {checkpoint.name} with config {cfg.name!r} to {out_dir}")
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".tmp", dir=out_dir.parent))
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes it private
        with torch.no_grad():
            doc = export_model(model, tmp, opset, log)
        doc["checkpoint"] = {
            "file": checkpoint.name,
            "sha256": _sha256(checkpoint),
            "content_digest": content_digest(state_dict),
        }
        write_manifest(tmp, doc)
        engine_error = None
        if "tensorrt" in backends:
            engines, engine_error = _build_tensorrt(tmp, fp16, workspace_mib, log)
            if engines:
                doc["engines"] = {name: path.name for name, path in engines.items()}
                doc["engine_options"] = {"fp16": fp16, "workspace_mib": workspace_mib}
                write_manifest(tmp, doc)
        read_manifest(tmp)  # what we wrote must read back
        _replace(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if engine_error is not None:
        raise EngineBuildFailed(
            f"wrote the ONNX stages to {out_dir} but no TensorRT engines: {engine_error} "
            f"(details: {out_dir / ENGINE_ERROR_FILE})"
        )
    return out_dir


def _build_tensorrt(
    out_dir: Path, fp16: bool, workspace_mib: int, log: Log
) -> tuple[dict[str, Path], str | None]:
    """(engines, None), or ({}, one-line reason) after a failure whose full text (with the
    traceback) is written to `out_dir/ENGINE_ERROR_FILE`; partial engines are removed."""
    if not _tensorrt_installed():
        log("TensorRT is not installed: wrote the ONNX stages only (no engines)")
        return {}, None
    try:
        from isbnet_trt.export.tensorrt_engines import build_engines
    except ImportError as e:
        log(f"TensorRT engine builder unavailable ({e}): wrote the ONNX stages only")
        return {}, None
    try:
        return build_engines(out_dir, out_dir, fp16, workspace_mib), None
    except Exception as e:  # noqa: BLE001 - EngineBuildError, TensorRTUnavailableError, ValueError,
        # and whatever TensorRT's bindings or the CUDA layer raise: none may cost the ONNX export
        for p in out_dir.glob("*.engine"):
            p.unlink()
        text = "".join(traceback.format_exception(type(e), e, e.__traceback__))
        (out_dir / ENGINE_ERROR_FILE).write_text(text)
        lines = str(e).strip().splitlines() or [type(e).__name__]
        reason = lines[0] + (f" (+{len(lines) - 1} more lines)" if len(lines) > 1 else "")
        return {}, reason


def _tensorrt_installed() -> bool:
    return importlib.util.find_spec("tensorrt") is not None


def _check_destination(out_dir: Path) -> None:
    parent = out_dir.parent
    if not parent.is_dir():
        raise ExportError(f"cannot write {out_dir}: {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ExportError(f"cannot write {out_dir}: {parent} is not writable")
    if out_dir.exists():
        if not out_dir.is_dir():
            raise ExportError(f"cannot write {out_dir}: it exists and is not a directory")
        if any(out_dir.iterdir()) and not (out_dir / MANIFEST_NAME).is_file():
            raise ExportError(f"refusing to replace {out_dir}: not empty and not an isbnet-trt export")


def _replace(tmp: Path, out_dir: Path) -> None:
    """Rename the finished `tmp` to `out_dir`, replacing a previous export there."""
    old = None
    if out_dir.exists():
        old = out_dir.with_name(f".{out_dir.name}.{os.getpid()}.old")
        os.rename(out_dir, old)
    try:
        os.rename(tmp, out_dir)
    except OSError:
        if old is not None:
            os.rename(old, out_dir)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def export_cached(checkpoint: Path, config: str | Path | ModelConfig | None, cache_root: Path) -> Path:
    """The export of `checkpoint` in `cache_root/<key>` (created on first use), keyed by the
    weights, the config and the manifest format; ONNX only."""
    cfg = config if isinstance(config, ModelConfig) or config is None else load_config(config)
    if cfg is None:
        cfg = resolve_config(checkpoint)
    out_dir = cache_entry(checkpoint, cfg, cache_root)
    if is_valid_export(out_dir):
        return out_dir
    Path(cache_root).mkdir(parents=True, exist_ok=True)
    return export_checkpoint(checkpoint, out_dir, cfg, backends=("onnx",), log=lambda _: None)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _tool_versions() -> dict[str, str]:
    versions = {"torch": torch.__version__, "onnx": onnx.__version__}
    for mod in ("onnxscript", "onnxruntime", "numba", "onnxruntime_extensions"):
        if importlib.util.find_spec(mod) is not None:
            versions[mod] = getattr(__import__(mod), "__version__", "?")
    return versions


def _parser(prog: str | None) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=prog,
        description="Export an ISBNet checkpoint to ONNX stages, and TensorRT engines where installed.",
    )
    p.add_argument("--ckpt", type=Path, required=True, help="official-format checkpoint (.pth)")
    p.add_argument("--config", type=Path, help="official YAML config (default: inferred, see the docs)")
    p.add_argument("--out", type=Path, required=True, help="export directory to write (replaced atomically)")
    p.add_argument("--fp16", action="store_true", help="allow FP16 in the TensorRT engines (ONNX stays fp32)")
    p.add_argument(
        "--opset", type=int, default=DEFAULT_OPSET, help=f"ONNX opset (>= {MIN_OPSET}, default %(default)s)"
    )
    p.add_argument(
        "--workspace", type=int, default=4096, metavar="MiB", help="TensorRT builder workspace (MiB)"
    )
    p.add_argument(
        "--backends", default="onnx,tensorrt", help="what to build: onnx[,tensorrt] (default %(default)s)"
    )
    return p


def main(argv: Sequence[str] | None = None, prog: str | None = None) -> int:
    """Command line entry point; returns the exit status (0 ok, 2 bad input or failure)."""
    parser = _parser(prog)
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # --help (0) or a usage error (2, message printed)
        return int(e.code or 0)
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    start = time.perf_counter()
    try:
        out = export_checkpoint(
            args.ckpt, args.out, args.config, args.opset, args.fp16, args.workspace, backends, log=print
        )
    except (IsbnetError, ExportError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: nothing written", file=sys.stderr)
        return 130
    print(f"wrote {out} in {time.perf_counter() - start:.1f} s")
    return 0
