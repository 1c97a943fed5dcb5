"""Writing results: `.npz`, the ScanNet benchmark instance format, a coloured `.ply`, a PNG.

Every writer is atomic: it writes under a temporary name in the destination directory and
renames at the end, so an interrupted or failed run never leaves a half-written result.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from isbnet_trt import files
from isbnet_trt.errors import IsbnetError
from isbnet_trt.isbnet.config import SCANNET_BENCHMARK_IDS, ModelConfig
from isbnet_trt.isbnet.scannet200 import SCANNET200_BENCHMARK_IDS
from isbnet_trt.runtime.pipeline import Prediction

FORMATS = ("npz", "scannet", "ply", "png")


class OutputError(IsbnetError, OSError):
    """The output cannot be written (unwritable directory, full disk, ...)."""


@contextmanager
def atomic_path(dest: Path) -> Iterator[Path]:
    """`isbnet_trt.files.atomic_path`, its failures reported as `OutputError` (one-line errors)."""
    try:
        with files.atomic_path(dest) as tmp:
            yield tmp
    except FileExistsError as e:
        raise OutputError(str(e)) from None


def check_output_dir(path: Path) -> Path:
    """Check that `path` is, or could be created as, a writable directory, without creating it
    (a run refused later, on bad input, leaves nothing behind); raise `OutputError` if not."""
    if path.exists() and not path.is_dir():
        raise OutputError(f"cannot write to output directory {path}: it is a file")
    parent = path
    while not parent.exists():  # the nearest existing ancestor must be a writable directory
        parent = parent.parent
    if not parent.is_dir():
        raise OutputError(f"cannot write to output directory {path}: {parent} is not a directory")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write to output directory {path}: permission denied on {parent}")
    return path


def make_output_dir(path: Path) -> Path:
    """Create `path` (and its parents) when there is something to write into it."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OutputError(f"cannot write to output directory {path}: {e.strerror or e}") from None
    return path


def write_npz(pred: Prediction, dest: Path) -> Path:
    """labels (official label ids), semantic classes, class names, scores, masks `(K, N)` bool,
    boxes `(K, 6)`, timings (json), backend."""
    inst = pred.instances
    with atomic_path(dest) as tmp, open(tmp, "wb") as f:
        np.savez_compressed(
            f,
            label_ids=inst.label_ids,
            semantic_classes=inst.semantic_classes,
            class_names=np.array(pred.class_names, dtype=str),
            scores=inst.scores,
            masks=inst.masks,
            boxes=inst.boxes,
            timings=json.dumps(pred.timings),
            backend=pred.backend,
        )
    return dest


def benchmark_label_id(cfg: ModelConfig, label_id: int) -> int:
    """The official `save_single_instance` mapping: `BENCHMARK_SEMANTIC_IDXS[label_id + 1]`
    (ScanNetV2 and ScanNet200 benchmark ids; S3DIS and STPLS3D use the identity list, as the
    official code does)."""
    if cfg.dataset_name == "scannetv2":
        return SCANNET_BENCHMARK_IDS[label_id + 1]
    if cfg.dataset_name == "scannet200":
        return SCANNET200_BENCHMARK_IDS[label_id + 1]
    return label_id + 1


def write_scannet(pred: Prediction, cfg: ModelConfig, out_dir: Path, scene: str) -> Path:
    """The ScanNet benchmark format: `scene.txt` with one line per instance
    `predicted_masks/<scene>_<i>.txt <benchmark label id> <score>`, and one 0/1-per-line mask
    file per instance. Written into a temporary directory, moved into place, index last."""
    inst = pred.instances
    staging = Path(tempfile.mkdtemp(prefix=f".{scene}.", dir=out_dir))
    try:
        (staging / "predicted_masks").mkdir()
        lines = []
        for i in range(len(inst)):
            rel = f"predicted_masks/{scene}_{i:03d}.txt"
            (staging / rel).write_bytes(mask_lines(inst.masks[i]))
            lines.append(f"{rel} {benchmark_label_id(cfg, int(inst.label_ids[i]))} {inst.scores[i]:.4f}\n")
        (staging / f"{scene}.txt").write_text("".join(lines))
        (out_dir / "predicted_masks").mkdir(exist_ok=True)
        for i in range(len(inst)):
            rel = f"predicted_masks/{scene}_{i:03d}.txt"
            os.replace(staging / rel, out_dir / rel)
        os.replace(staging / f"{scene}.txt", out_dir / f"{scene}.txt")
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return out_dir / f"{scene}.txt"


def mask_lines(mask: np.ndarray) -> bytes:
    """A bool mask as the benchmark's text, one `0` or `1` per line (what `np.savetxt(..., fmt="%d")`
    writes), built as one byte array: ~1 ms for 150k points instead of ~0.1 s."""
    text = np.full((len(mask), 2), ord("\n"), np.uint8)
    text[:, 0] = ord("0") + np.asarray(mask, np.uint8)
    return text.tobytes()


def instance_colors(n: int) -> np.ndarray:
    """`(n, 3)` uint8 distinct colours (golden-ratio hues), deterministic."""
    hues = (np.arange(n) * 0.618033988749895) % 1.0
    rgb = [_hsv_to_rgb(h, 0.75, 0.95) for h in hues]
    return (np.array(rgb, np.float64).reshape(n, 3) * 255).astype(np.uint8)


def _hsv_to_rgb(h: float, s: float, v: float) -> np.ndarray:
    i = int(h * 6) % 6
    f = h * 6 - int(h * 6)
    p, q, t = v * (1 - s), v * (1 - s * f), v * (1 - s * (1 - f))
    return np.array([(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)][i])


#: The PNG view shows instances scoring at least this (all of them are in the other outputs).
PNG_MIN_SCORE = 0.5


def point_instance_ids(pred: Prediction, min_score: float | None = None) -> np.ndarray:
    """`(N,)` int64 instance of each point (-1 none); where masks overlap the higher score wins.
    Instances scoring below `min_score` are left out."""
    inst = pred.instances
    ids = np.full(inst.masks.shape[1], -1, np.int64)
    for i in np.argsort(inst.scores, kind="stable"):  # ascending: higher scores written last
        if min_score is None or inst.scores[i] >= min_score:
            ids[inst.masks[i]] = i
    return ids


def write_ply(pred: Prediction, points: np.ndarray, dest: Path) -> Path:
    """The input points coloured by instance (background grey), with `instance` (-1 none) and
    `label` (official label id, 0 none) vertex properties."""
    from plyfile import PlyData, PlyElement

    ids = point_instance_ids(pred)
    colors = np.vstack([instance_colors(len(pred.instances)), [[160, 160, 160]]])[ids]
    labels = np.append(pred.instances.label_ids, 0)[ids]
    vertex = np.empty(
        len(points),
        dtype=[("x", "f4"), ("y", "f4"), ("z", "f4"), ("red", "u1"), ("green", "u1"), ("blue", "u1"),
               ("instance", "i4"), ("label", "i4")],
    )  # fmt: skip
    for i, c in enumerate("xyz"):
        vertex[c] = points[:, i]
    vertex["red"], vertex["green"], vertex["blue"] = colors.T
    vertex["instance"], vertex["label"] = ids, labels
    with atomic_path(dest) as tmp:
        PlyData([PlyElement.describe(vertex, "vertex")]).write(str(tmp))
    return dest


def _free_spot(x: float, y: float, placed: list[tuple[float, float]], step: float) -> tuple[float, float]:
    """The first of `(x, y)`, one `step` below, above, ... not within `step` of a placed label
    (twin instances share a centre); records and returns it."""
    for k in range(12):
        cy = y + step * ((k + 1) // 2) * (-1) ** k
        if all(abs(x - px) >= 1.2 * step or abs(cy - py) >= step for px, py in placed):
            break
    placed.append((x, cy))
    return x, cy


def png_palette(n: int) -> np.ndarray:
    """`(n, 3)` float colours for the PNG's instances, distinct for the first 60 (matplotlib's
    tab20, tab20b, tab20c), then golden-ratio hues."""
    from matplotlib import colormaps

    qualitative = np.concatenate([colormaps[name].colors for name in ("tab20", "tab20b", "tab20c")])[:, :3]
    extra = instance_colors(max(0, n - len(qualitative))) / 255.0
    return np.concatenate([qualitative, extra])[:n]


def write_png(
    pred: Prediction, points: np.ndarray, dest: Path, title: str = "", min_score: float = PNG_MIN_SCORE
) -> Path:
    """A top-down view of the points coloured by instance, each instance numbered at its centre
    (by descending score) and listed with class and score in a legend beside the view, so that
    clustered instances stay readable; instances scoring below `min_score` stay grey."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import patheffects
    from matplotlib.patches import Patch

    inst = pred.instances
    shown = [int(i) for i in np.argsort(-inst.scores, kind="stable") if inst.scores[i] >= min_score]
    colour_of = np.full((len(inst) + 1, 3), 0.82)  # last row: points of no shown instance
    colour_of[shown] = png_palette(len(shown))
    ids = point_instance_ids(pred, min_score)
    order = np.argsort(points[:, 2])  # draw low points first so object tops stay visible
    fig, ax = plt.subplots(figsize=(11, 9), dpi=150)
    ax.scatter(points[order, 0], points[order, 1], c=colour_of[ids[order]], s=1.0, linewidths=0)
    outline = [patheffects.withStroke(linewidth=2.5, foreground="white")]
    handles, placed = [], []
    step = 0.03 * float(np.ptp(points[:, :2], axis=0).max())  # about one label height
    for number, i in enumerate(shown, 1):
        visible = ids == i  # where it won against overlapping instances, else its whole mask
        where = visible if visible.any() else inst.masks[i]
        if where.any():
            x, y = _free_spot(np.median(points[where, 0]), np.median(points[where, 1]), placed, step)
            ax.text(x, y, str(number), fontsize=8, weight="bold", ha="center", va="center",
                    color=colour_of[i] * 0.6, path_effects=outline)  # fmt: skip
        handles.append(
            Patch(color=colour_of[i], label=f"{number} {pred.class_names[i]} {inst.scores[i]:.2f}")
        )
    if handles:
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False,
                  ncol=1 + (len(handles) - 1) // 40, handlelength=1.0, borderaxespad=0.0)  # fmt: skip
    ax.set_aspect("equal")
    heading = f"{len(shown)} of {len(inst)} instances (score >= {min_score:g})"
    ax.set_title(f"{title}: {heading}" if title else heading)
    ax.set_xlabel("x (m)")
    ax.set_ylabel("y (m)")
    with atomic_path(dest) as tmp:
        fig.savefig(tmp, format="png", bbox_inches="tight")
    plt.close(fig)
    return dest
