"""AP of the demo weights per superpoint mode, and without colour, on held-out generated rooms.

    python benchmarks/superpoint_modes.py [--rooms 20] [--backend onnxruntime]

Modes: the generator's true superpoints, `auto` (computed from the points), `none` (every
2 cm voxel its own superpoint), and `auto` on points without colour (`--no-color`: constant
grey). Rooms: the demo model card's 20 test rooms (seeds 500-519, 30k..150k points), never
used in training. Writes `benchmarks/results/superpoint_modes.md`.
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

from isbnet_trt.isbnet import demo
from isbnet_trt.runtime.pipeline import Pipeline
from isbnet_trt.runtime.scene_prep import SceneOptions
from isbnet_trt.training.evaluation import InstanceEvaluator, InstanceGroundTruth, InstancePrediction
from isbnet_trt.training.synthetic import generate_room
from isbnet_trt.training.train import TEST_SEEDS, eval_rooms

MODES = ("true", "auto", "none", "no-color")
RESULTS = Path(__file__).parent / "results"


def run(n_rooms: int, backend: str) -> list[tuple[str, float, float, float, float]]:
    pipe = Pipeline.from_checkpoint(demo.demo_weights_path(), demo.demo_config_path(), backend)
    cfg = pipe.cfg
    evaluators = {
        m: InstanceEvaluator(cfg.semantic_class_names[cfg.label_shift :], label_shift=cfg.label_shift)
        for m in MODES
    }
    seconds = dict.fromkeys(MODES, 0.0)
    for seed, n_points in eval_rooms(TEST_SEEDS[:n_rooms]):
        room = generate_room(n_points, seed=seed)
        gt = InstanceGroundTruth(room.semantic_labels, room.instance_labels)
        for mode in MODES:
            points, spp, opts = room.points, {"true": room.superpoints}.get(mode, mode), SceneOptions()
            if mode == "no-color":
                points, spp, opts = room.points[:, :3], "auto", SceneOptions(no_color=True)
            t = time.perf_counter()
            inst = pipe(points, spp, opts).instances
            seconds[mode] += time.perf_counter() - t
            evaluators[mode].add_scene(
                InstancePrediction(inst.semantic_classes - cfg.label_shift, inst.scores, inst.masks), gt
            )
        print(f"room seed {seed} ({n_points} points) done", flush=True)
    rows = []
    for mode in MODES:
        r = evaluators[mode].compute()
        rows.append((mode, r.all_ap, r.all_ap_50, r.all_ap_25, seconds[mode] / n_rooms))
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rooms", type=int, default=20)
    p.add_argument("--backend", default="onnxruntime")
    args = p.parse_args()
    rows = run(args.rooms, args.backend)
    lines = [
        "# AP per superpoint mode (demo weights)",
        "",
        f"{args.rooms} held-out generated rooms (seeds {TEST_SEEDS[0]}..{TEST_SEEDS[args.rooms - 1]}, "
        "30k-150k points), "
        f"backend {args.backend}, {platform.processor() or platform.machine()}; produced by "
        "`python benchmarks/superpoint_modes.py`.",
        "",
        "| superpoints | AP | AP50 | AP25 | s / room (incl. superpoints) |",
        "| --- | --: | --: | --: | --: |",
    ]
    names = {"true": "generator's true superpoints", "auto": "`auto`", "none": "`none` (2 cm voxels)",
             "no-color": "`auto`, points without colour (`--no-color`)"}  # fmt: skip
    lines += [
        f"| {names[m]} | {ap:.3f} | {ap50:.3f} | {ap25:.3f} | {s:.2f} |" for m, ap, ap50, ap25, s in rows
    ]
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "superpoint_modes.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
