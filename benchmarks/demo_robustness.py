"""AP of the demo weights on held-out rooms changed as another generator or a real scan might differ.

    python benchmarks/demo_robustness.py [--rooms 20] [--backend onnxruntime] [--modes a,b,...]

An independent check evaluates the demo weights on rooms of a generator we do not have. This
measures how far AP falls when the model card's 20 test rooms (seeds 500-519, 30k..150k points,
never used in training) change in ways such a generator could: colours (palette, grey, channel
order), density, scale, noise, tilt, occlusion holes, a ceiling, several at once (each change
keeps every point's labels and true superpoint), and on the rooms of the project's second
generator (`training.synthetic` generator b, same seeds, superpoints computed from the points).
Writes `benchmarks/results/demo_robustness.md`.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import platform
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from isbnet_trt.isbnet import demo
from isbnet_trt.runtime.pipeline import Pipeline
from isbnet_trt.training.evaluation import InstanceEvaluator, InstanceGroundTruth, InstancePrediction
from isbnet_trt.training.synthetic import SyntheticScene, generate_room, get_generator
from isbnet_trt.training.train import TEST_SEEDS, eval_rooms
from isbnet_trt.training.train_data import drop_in_holes

RESULTS = Path(__file__).parent / "results"

Room = Callable[[int, int], SyntheticScene]  # (seed, n_points) -> room
Change = Callable[[SyntheticScene, np.random.Generator], SyntheticScene]


def _xyz(room: SyntheticScene, xyz: np.ndarray) -> SyntheticScene:
    points = room.points.copy()
    points[:, :3] = xyz
    return dataclasses.replace(room, points=points)


def _rgb(room: SyntheticScene, rgb: np.ndarray) -> SyntheticScene:
    points = room.points.copy()
    points[:, 3:6] = np.clip(rgb, 0, 255)
    return dataclasses.replace(room, points=points)


def random_object_colours(room: SyntheticScene, rng: np.random.Generator) -> SyntheticScene:
    """Every object and every structure class one uniform random colour; the shading is kept."""
    rgb = room.points[:, 3:6]
    lum = rgb.mean(1) + 1e-3
    key = np.where(room.instance_labels >= 0, room.instance_labels + 100, room.semantic_labels)
    out = rgb.copy()
    for k in np.unique(key):
        m = key == k
        out[m] = rng.uniform(30, 230, 3)[None] * (lum[m] / lum[m].mean())[:, None]
    return _rgb(room, out)


def constant_grey(room: SyntheticScene, rng: np.random.Generator) -> SyntheticScene:
    return _rgb(room, np.full_like(room.points[:, 3:6], 127.5))


def grey_levels(room: SyntheticScene, rng: np.random.Generator) -> SyntheticScene:
    return _rgb(room, room.points[:, 3:6].mean(1, keepdims=True).repeat(3, 1))


def bgr(room: SyntheticScene, rng: np.random.Generator) -> SyntheticScene:
    return _rgb(room, room.points[:, 5:2:-1])


def scaled(factor: float) -> Change:
    """Every coordinate times `factor`: rooms and objects of other sizes than the generator's."""
    return lambda room, rng: _xyz(room, room.points[:, :3] * factor)


def position_noise(std: float) -> Change:
    return lambda room, rng: _xyz(room, room.points[:, :3] + rng.normal(0, std, (len(room.points), 3)))


def tilt(degrees: float) -> Change:
    """Rotate the scene about the x axis (a scan whose z is not quite vertical)."""
    a = math.radians(degrees)
    rot = np.array([[1, 0, 0], [0, math.cos(a), -math.sin(a)], [0, math.sin(a), math.cos(a)]])
    return lambda room, rng: _xyz(room, room.points[:, :3] @ rot.T)


def occlusion_holes(fraction: float) -> Change:
    """Drop the points inside random 0.2-0.6 m balls until `fraction` of them are gone."""
    return lambda room, rng: drop_in_holes(room, rng, fraction)


def combined(*changes: Change) -> Change:
    """The changes one after the other (another generator differs in several ways at once)."""

    def change(room: SyntheticScene, rng: np.random.Generator) -> SyntheticScene:
        for c in changes:
            room = c(room, rng)
        return room

    return change


def second_generator_room(seed: int, n_points: int) -> SyntheticScene:
    return get_generator("b")(n_points, seed)


def third_generator_room(seed: int, n_points: int) -> SyntheticScene:
    return get_generator("c")(n_points, seed)


def _room_at(scale_points: float, **options) -> Room:
    return lambda seed, n: generate_room(int(round(n * scale_points)), seed=seed, **options)


def _unchanged(room: SyntheticScene, rng: np.random.Generator) -> SyntheticScene:
    return room


SAME_ROOM = _room_at(1.0)

# name -> (how the room is generated, how it is changed afterwards)
MODES: dict[str, tuple[Room, Change]] = {
    "as generated": (SAME_ROOM, _unchanged),
    "random colour per object and structure class": (SAME_ROOM, random_object_colours),
    "constant grey (127.5)": (SAME_ROOM, constant_grey),
    "grey levels (rgb mean)": (SAME_ROOM, grey_levels),
    "channels swapped (bgr)": (SAME_ROOM, bgr),
    "2x the points (60k-300k)": (_room_at(2.0), _unchanged),
    "1/3 of the points (10k-50k)": (_room_at(1 / 3), _unchanged),
    "scaled x0.8": (SAME_ROOM, scaled(0.8)),
    "scaled x1.25": (SAME_ROOM, scaled(1.25)),
    "position noise 2 cm": (SAME_ROOM, position_noise(0.02)),
    "tilted 5 degrees": (SAME_ROOM, tilt(5.0)),
    "30% of points in occlusion holes": (SAME_ROOM, occlusion_holes(0.3)),
    "with ceiling": (_room_at(1.0, ceiling=True), _unchanged),
    "second generator (isbnet.synthetic_b; superpoints computed)": (second_generator_room, _unchanged),
    "third generator (isbnet.synthetic_c; never trained on; superpoints computed)": (
        third_generator_room,
        _unchanged,
    ),
    "combined: random colours + x1.15 + 1 cm noise + 20% in holes": (
        SAME_ROOM,
        combined(random_object_colours, scaled(1.15), position_noise(0.01), occlusion_holes(0.2)),
    ),
}


def run(
    modes: list[str], n_rooms: int, backend: str, ckpt: Path
) -> list[tuple[str, float, float, float, float]]:
    pipe = Pipeline.from_checkpoint(ckpt, demo.demo_config_path(), backend)
    cfg = pipe.cfg
    rows = []
    for mode in modes:
        make_room, change = MODES[mode]
        classes = cfg.semantic_class_names[cfg.label_shift :]
        evaluator = InstanceEvaluator(classes, label_shift=cfg.label_shift)
        rng = np.random.default_rng(0)
        t = time.perf_counter()
        for seed, n_points in eval_rooms(TEST_SEEDS[:n_rooms]):
            room = change(make_room(seed, n_points), rng)
            inst = pipe(room.points.astype(np.float32), room.superpoints).instances
            evaluator.add_scene(
                InstancePrediction(inst.semantic_classes - cfg.label_shift, inst.scores, inst.masks),
                InstanceGroundTruth(room.semantic_labels, room.instance_labels),
            )
        r = evaluator.compute()
        rows.append((mode, r.all_ap, r.all_ap_50, r.all_ap_25, (time.perf_counter() - t) / n_rooms))
        print(f"{mode}: AP {r.all_ap:.3f} AP50 {r.all_ap_50:.3f} AP25 {r.all_ap_25:.3f}", flush=True)
    return rows


def render(rows: list[tuple[str, float, float, float, float]], n_rooms: int, backend: str) -> str:
    lines = [
        "# Demo weights on changed rooms",
        "",
        f"{n_rooms} held-out generated rooms (seeds {TEST_SEEDS[0]}..{TEST_SEEDS[n_rooms - 1]}), true "
        "superpoints (computed for the other generators' rooms), backend "
        f"{backend}, {platform.processor() or platform.machine()}; produced by "
        "`python benchmarks/demo_robustness.py`.",
        "",
        "| rooms | AP | AP50 | AP25 | s / room |",
        "| --- | --: | --: | --: | --: |",
    ]
    lines += [f"| {m} | {ap:.3f} | {ap50:.3f} | {ap25:.3f} | {s:.2f} |" for m, ap, ap50, ap25, s in rows]
    return "\n".join(lines) + "\n"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rooms", type=int, default=20, help="held-out rooms per mode (max 20)")
    p.add_argument("--backend", default="onnxruntime")
    p.add_argument("--ckpt", type=Path, help="weights in the demo config (default: the shipped demo weights)")
    p.add_argument("--modes", help=f"comma-separated subset of: {'; '.join(MODES)} (default all)")
    args = p.parse_args()
    modes = list(MODES) if args.modes is None else [m.strip() for m in args.modes.split(",")]
    unknown = [m for m in modes if m not in MODES]
    if unknown:
        p.error(f"unknown mode(s) {unknown}; choose from {list(MODES)}")
    ckpt = args.ckpt or demo.demo_weights_path()
    text = render(run(modes, args.rooms, args.backend, ckpt), args.rooms, args.backend)
    if args.modes is None and args.rooms == 20 and args.ckpt is None:
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "demo_robustness.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
