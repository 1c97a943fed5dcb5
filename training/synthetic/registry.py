"""The generators by name, for callers that choose among them (training mixes, robustness runs)."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Protocol

from isbnet_trt.training.synthetic import room_a, room_b, room_c
from isbnet_trt.training.synthetic.scene import SyntheticScene


class RoomGenerator(Protocol):
    """The one signature of every generator: deterministic in (n_points, seed, options)."""

    def __call__(self, n_points: int = 150_000, seed: int = 0, **options: Any) -> SyntheticScene: ...


# a: the first generator (tests, demo weights, benchmarks); b: the second, written independently (can be
# mixed into training); c: the third, written independently of both and never trained on (held out)
GENERATORS: Mapping[str, RoomGenerator] = MappingProxyType(
    {"a": room_a.generate_room, "b": room_b.generate_room, "c": room_c.generate_room}
)


def get_generator(name: str) -> RoomGenerator:
    """The generator called `name` ("a", "b" or "c")."""
    try:
        return GENERATORS[name]
    except KeyError:
        raise ValueError(f"unknown room generator {name!r}; choose one of {', '.join(GENERATORS)}") from None
