"""Train ISBNet on synthetic rooms, and evaluate checkpoints on held-out rooms.

Recipe (official two-stage training, batch size 1 on the CPU): the backbone and its
point-wise heads first (`--backbone-steps`, official `--only_backbone`), then the instance
head with the backbone frozen (`--instance-steps`, the official full-model configs'
`fixed_modules`), optionally a joint fine-tuning of everything (`--joint-steps`, official
`--trainall`). AdamW per stage (official optimizer), learning rate constant for the first
`--cosine-start` of a stage, then cosine-annealed to 1e-6 (official `cosine_lr_after_step`).

Every training scene is a fresh random room (`train_data.sample_room`) drawn from a generator
seeded by (seed, stage, step): runs are deterministic, and `--resume` continues exactly where
the last checkpoint stopped. Checkpoints are official `{"net": state_dict, ...}` files with
the optimizer state and the position in the schedule.

Examples::

    python -m isbnet_trt.training.train --config isbnet/data/demo.yaml --work-dir runs/demo \\
        --backbone-steps 1500 --instance-steps 4000
    python -m isbnet_trt.training.train --config isbnet/data/demo.yaml --work-dir runs/demo --resume ...
    python -m isbnet_trt.training.train --eval runs/demo/latest.pth --config isbnet/data/demo.yaml
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from isbnet_trt.isbnet.checkpoint import build_model, read_state_dict, save_checkpoint
from isbnet_trt.isbnet.config import SCANNET_CLASSES, ModelConfig, load_config
from isbnet_trt.isbnet.inference import predict
from isbnet_trt.isbnet.model import ISBNet
from isbnet_trt.training.evaluation import (
    EvalResult,
    InstanceEvaluator,
    InstanceGroundTruth,
    InstancePrediction,
)
from isbnet_trt.training.synthetic import generate_room
from isbnet_trt.training.train_data import AugmentOptions, RoomDistribution, make_train_scene, sample_room
from isbnet_trt.training.train_forward import (
    STAGES,
    Stage,
    forward_train,
    set_train_mode,
    trainable_parameters,
)

# Held-out rooms (training rooms have generator seeds >= RoomDistribution.min_seed = 1e6).
TEST_SEEDS = tuple(range(500, 520))  # the 20 rooms of the reported metrics
VALIDATION_SEEDS = tuple(range(600, 620))  # the periodic quick evaluation during training
EVAL_MIN_POINTS, EVAL_MAX_POINTS = 30_000, 150_000
LR_MIN = 1e-6  # official `cosine_lr_after_step` clip


def eval_rooms(seeds: Sequence[int]) -> list[tuple[int, int]]:
    """(seed, n_points) of held-out rooms: point counts evenly spaced over 30k..150k."""
    counts = np.linspace(EVAL_MIN_POINTS, EVAL_MAX_POINTS, len(seeds)).round().astype(int)
    return [(int(s), int(n)) for s, n in zip(seeds, counts, strict=True)]


def evaluate_rooms(model: ISBNet, rooms: Sequence[tuple[int, int]], superpoints: bool = True) -> EvalResult:
    """ScanNet-style AP of `model` on generated rooms `(seed, n_points)` (default generator
    options), through the official inference (`inference.predict`)."""
    cfg = model.cfg
    evaluator = InstanceEvaluator(SCANNET_CLASSES, label_shift=cfg.label_shift)
    was_training = model.training
    model.eval()
    for seed, n_points in rooms:
        room = generate_room(n_points, seed=seed)
        inst = predict(model, room.points, room.superpoints if superpoints else None)
        pred = InstancePrediction(inst.semantic_classes - cfg.label_shift, inst.scores, inst.masks)
        evaluator.add_scene(pred, InstanceGroundTruth(room.semantic_labels, room.instance_labels))
    model.train(was_training)
    return evaluator.compute()


def lr_at(step: int, total: int, base_lr: float, cosine_start: float) -> float:
    """Constant `base_lr` for the first `cosine_start` of the steps, then cosine to `LR_MIN`."""
    start = int(total * cosine_start)
    if step < start or total <= start:
        return base_lr
    return LR_MIN + 0.5 * (base_lr - LR_MIN) * (1 + math.cos(math.pi * (step - start) / (total - start)))


@dataclass(frozen=True)
class Phase:
    """One stage of the schedule: `steps` optimizer steps at base learning rate `lr`."""

    stage: Stage
    steps: int
    lr: float


def _scene_rng(seed: int, stage: Stage, index: int) -> np.random.Generator:
    return np.random.default_rng([seed, STAGES.index(stage), index])


def _room_dist(args: argparse.Namespace) -> RoomDistribution:
    return RoomDistribution(
        min_points=args.min_points,
        max_points=args.max_points,
        ceiling_prob=args.ceiling_prob,
        second_generator_prob=args.second_generator_prob,
    )


def _augment(args: argparse.Namespace) -> AugmentOptions:
    return AugmentOptions(
        recolour_prob=args.recolour_prob,
        scale=args.scale_aug,
        extra_noise=args.extra_noise,
        holes_prob=args.holes_prob,
    )


def _checkpoint(
    path: Path, model: ISBNet, opt: torch.optim.Optimizer, phase_idx: int, step: int, done: int
) -> None:
    save_checkpoint(
        model.state_dict(),
        path,
        optimizer=opt.state_dict(),
        phase=phase_idx,
        step=step,
        epoch=done,  # official key: here the number of optimizer steps done over all stages
    )


def train(args: argparse.Namespace) -> int:
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    cfg = load_config(args.config)
    if not cfg.use_spp_pool or cfg.semantic_only:
        raise SystemExit("training needs a full model config with use_spp_pool: True")
    work = Path(args.work_dir)
    work.mkdir(parents=True, exist_ok=True)
    phases = [
        Phase(s, n, lr)
        for s, n, lr in (
            ("backbone", args.backbone_steps, args.lr_backbone),
            ("instance", args.instance_steps, args.lr_instance),
            ("joint", args.joint_steps, args.lr_joint),
        )
        if n > 0
    ]
    model = ISBNet(cfg)
    phase_idx, step = 0, 0
    latest = work / "latest.pth"
    resume_state = None
    if args.resume and latest.is_file():
        resume_state = torch.load(latest, map_location="cpu", weights_only=True)
        model.load_state_dict(resume_state["net"], strict=True)
        phase_idx, step = int(resume_state["phase"]), int(resume_state["step"])
        _log(f"resumed from {latest}: phase {phase_idx} step {step}")
    elif args.init:
        model.load_state_dict(read_state_dict(args.init), strict=True)
        _log(f"initialised from {args.init}")
    dist = _room_dist(args)
    aug = _augment(args)
    total_steps = sum(p.steps for p in phases)
    done = sum(p.steps for p in phases[:phase_idx]) + step
    _log(f"config {args.config}: {sum(p.numel() for p in model.parameters())} parameters; phases {phases}")
    while phase_idx < len(phases):
        phase = phases[phase_idx]
        params = trainable_parameters(model, phase.stage)
        opt = torch.optim.AdamW(params, lr=phase.lr, weight_decay=args.weight_decay)
        if resume_state is not None:
            if resume_state.get("optimizer") is not None:
                opt.load_state_dict(resume_state["optimizer"])
            resume_state = None
        set_train_mode(model, phase.stage)
        meter: dict[str, list[float]] = {}
        t_phase, n_timed = time.time(), 0
        while step < phase.steps:
            t0 = time.time()
            lr = lr_at(step, phase.steps, phase.lr, args.cosine_start)
            for group in opt.param_groups:
                group["lr"] = lr
            opt.zero_grad(set_to_none=True)
            for a in range(args.accum):
                rng = _scene_rng(args.seed, phase.stage, step * args.accum + a)
                room = sample_room(rng, dist)
                scene = make_train_scene(room, rng, cfg, aug)
                loss, terms = forward_train(model, scene, phase.stage)
                if not math.isfinite(terms["loss"]):
                    _log(f"step {step}: non-finite loss {terms}, scene skipped")
                    continue
                if loss.requires_grad:
                    (loss / args.accum).backward()
                for k, v in terms.items():
                    meter.setdefault(k, []).append(v)
            if any(p.grad is not None for p in params):
                opt.step()
            step += 1
            done += 1
            n_timed += 1
            if step % args.log_every == 0 or step == phase.steps:
                it = (time.time() - t_phase) / n_timed
                eta = datetime.timedelta(seconds=int(it * (total_steps - done)))
                avg = {k: float(np.mean(v)) for k, v in meter.items()}
                msg = ", ".join(f"{k}: {v:.4f}" for k, v in sorted(avg.items()))
                _log(
                    f"[{phase.stage} {step}/{phase.steps}] lr {lr:.2e}, {it:.2f} s/it "
                    f"(last {time.time() - t0:.2f}), eta {eta}, {msg}"
                )
                meter.clear()
            stop = args.stop_after is not None and done >= args.stop_after
            if step % args.ckpt_every == 0 or step == phase.steps or stop:
                _checkpoint(latest, model, opt, phase_idx, step, done)
            if stop and step < phase.steps:
                _log(f"stopped after {done} steps (--stop-after); continue with --resume")
                return 0
            if (
                args.eval_every
                and phase.stage != "backbone"
                and (step % args.eval_every == 0 or step == phase.steps)
            ):
                _quick_eval(model, args.eval_rooms, phase.stage)
                set_train_mode(model, phase.stage)
        save_checkpoint(model.state_dict(), work / f"{phase.stage}_final.pth", phase=phase_idx, epoch=done)
        phase_idx, step = phase_idx + 1, 0
        if phase_idx < len(phases):  # the next phase starts from step 0 with a fresh optimizer
            save_checkpoint(model.state_dict(), latest, phase=phase_idx, step=0, epoch=done, optimizer=None)
    save_checkpoint(model.state_dict(), work / "final.pth", epoch=done)
    _log(f"done: {work / 'final.pth'}")
    return 0


def _quick_eval(model: ISBNet, n_rooms: int, stage: str) -> None:
    t = time.time()
    res = evaluate_rooms(model, eval_rooms(VALIDATION_SEEDS[:n_rooms]))
    _log(
        f"[{stage} eval] {n_rooms} validation rooms: AP {res.all_ap:.3f}, AP50 {res.all_ap_50:.3f}, "
        f"AP25 {res.all_ap_25:.3f} ({time.time() - t:.0f} s)"
    )


def evaluate(args: argparse.Namespace) -> int:
    torch.set_num_threads(args.threads)
    cfg: ModelConfig = load_config(args.config)
    model = build_model(cfg, read_state_dict(args.eval))
    seeds = VALIDATION_SEEDS if args.validation else TEST_SEEDS
    rooms = eval_rooms(seeds[: args.rooms])
    t = time.time()
    res = evaluate_rooms(model, rooms, superpoints=not args.no_superpoints)
    which = "validation" if args.validation else "held-out test"
    print(f"{args.eval}: {len(rooms)} {which} rooms (seed, points) {rooms}")
    print(f"superpoints: {not args.no_superpoints}")
    print(res.table(markdown=args.markdown))
    print(
        f"AP {res.all_ap:.4f}  AP50 {res.all_ap_50:.4f}  AP25 {res.all_ap_25:.4f}  ({time.time() - t:.0f} s)"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(res.to_dict(), indent=1))
    return 0


def _log(msg: str) -> None:
    print(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {msg}", flush=True)


def build_parser(prog: str = "python -m isbnet_trt.training.train") -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=prog,
        description="Train ISBNet on synthetic rooms (official losses and recipe), or evaluate a checkpoint.",
    )
    p.add_argument("--config", required=True, help="official-format model YAML (e.g. isbnet/data/demo.yaml)")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    g = p.add_argument_group("training")
    g.add_argument("--work-dir", help="checkpoints go here (latest.pth, <stage>_final.pth, final.pth)")
    g.add_argument("--backbone-steps", type=int, default=0)
    g.add_argument("--instance-steps", type=int, default=0)
    g.add_argument("--joint-steps", type=int, default=0)
    g.add_argument("--lr-backbone", type=float, default=0.002)
    g.add_argument("--lr-instance", type=float, default=0.001)
    g.add_argument("--lr-joint", type=float, default=0.0005)
    g.add_argument("--weight-decay", type=float, default=1e-4, help="AdamW weight decay (official 1e-4)")
    g.add_argument(
        "--cosine-start", type=float, default=0.4, help="fraction of a stage before the cosine decay"
    )
    g.add_argument("--accum", type=int, default=1, help="scenes per optimizer step (gradient accumulation)")
    g.add_argument("--min-points", type=int, default=30_000)
    g.add_argument("--max-points", type=int, default=150_000)
    g.add_argument("--seed", type=int, default=0)
    g.add_argument(
        "--recolour-prob",
        type=float,
        default=0.0,
        help="share of training scenes whose objects get random colours (default 0: the generator's)",
    )
    g.add_argument(
        "--scale-aug",
        type=float,
        default=0.0,
        help="scale scenes by a log-uniform factor in [1/(1+S), 1+S] (default 0: off)",
    )
    g.add_argument(
        "--extra-noise",
        type=float,
        default=0.0,
        help="extra position noise, std up to this many m (default 0)",
    )
    g.add_argument(
        "--holes-prob",
        type=float,
        default=0.0,
        help="share of scenes with up to 30%% of their points dropped in occlusion holes (default 0)",
    )
    g.add_argument(
        "--ceiling-prob",
        type=float,
        default=RoomDistribution.ceiling_prob,
        help=f"share of rooms with a ceiling (default {RoomDistribution.ceiling_prob})",
    )
    g.add_argument(
        "--second-generator-prob",
        type=float,
        default=0.0,
        help="share of rooms from the second generator (training.synthetic generator b; default 0)",
    )
    g.add_argument("--init", help="start from these weights (e.g. a backbone checkpoint)")
    g.add_argument("--resume", action="store_true", help="continue from <work-dir>/latest.pth if present")
    g.add_argument("--ckpt-every", type=int, default=100)
    g.add_argument("--stop-after", type=int, help="stop (with a checkpoint) after this many steps in all")
    g.add_argument("--log-every", type=int, default=10)
    g.add_argument("--eval-every", type=int, default=500, help="quick validation AP every N steps (0: never)")
    g.add_argument("--eval-rooms", type=int, default=4, help="validation rooms in the quick evaluation")
    e = p.add_argument_group("evaluation")
    e.add_argument("--eval", metavar="CHECKPOINT", help="evaluate this checkpoint instead of training")
    e.add_argument("--rooms", type=int, default=len(TEST_SEEDS), help="number of held-out rooms (max 20)")
    e.add_argument("--validation", action="store_true", help="use the validation rooms, not the test rooms")
    e.add_argument("--no-superpoints", action="store_true", help="segment without the rooms' superpoints")
    e.add_argument("--markdown", action="store_true", help="print the per-class table as markdown")
    e.add_argument("--json", help="also write the official result dict here")
    return p


def main(argv: Sequence[str] | None = None, prog: str = "python -m isbnet_trt.training.train") -> int:
    parser = build_parser(prog)
    args = parser.parse_args(argv)
    if args.eval:
        return evaluate(args)
    if not args.work_dir:
        parser.error("--work-dir is required for training")
    return train(args)


if __name__ == "__main__":
    sys.exit(main())
