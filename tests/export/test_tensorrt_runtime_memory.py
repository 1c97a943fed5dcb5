"""The TensorRT runtime sizes execution-context memory to the actual shapes (issue 14, item 7).

`ContextMemory` is driven with a fake `IExecutionContext` (TensorRT cannot be installed here): the
size comes from `update_device_memory_size_for_shapes` per call, the buffer only grows, the
context gets the buffer's address and the size of this call. Lives under tests/export beside the
engine-build tests; the backend's other tests are in tests/runtime."""

from __future__ import annotations

import pytest

from isbnet_trt.runtime.backends import BackendError
from isbnet_trt.runtime.backends.tensorrt import ContextMemory, DeviceBuffer


class FakeContext:
    def __init__(self, sizes):
        self.sizes = list(sizes)
        self.bound = []

    def update_device_memory_size_for_shapes(self):
        return self.sizes.pop(0)

    def set_device_memory(self, ptr, size):
        self.bound.append((ptr, size))


def test_memory_follows_the_shapes_and_only_grows():
    ctx = FakeContext([1 << 20, 4096, 0, 8 << 20])
    mem = ContextMemory(ctx, "cpu")
    assert mem.bind() == 1 << 20
    first = mem.buffer.buffer.data_ptr()
    assert ctx.bound[-1] == (first, 1 << 20) and mem.buffer.nbytes == 1 << 20
    assert mem.bind() == 4096 and ctx.bound[-1] == (first, 4096)  # smaller: same buffer, its size
    assert mem.bind() == 0 and ctx.bound[-1] == (0, 0)  # nothing needed: no memory, as allowed
    assert mem.bind() == 8 << 20 and mem.buffer.nbytes == 8 << 20 and ctx.bound[-1][1] == 8 << 20
    assert (mem.last_bytes, mem.peak_bytes) == (8 << 20, 8 << 20)


def test_stages_share_one_buffer_sized_to_the_largest_need():
    shared = DeviceBuffer("cpu")
    backbone, mask_head = FakeContext([3 << 20, 3 << 20]), FakeContext([5 << 20])
    a, b = ContextMemory(backbone, "cpu", shared), ContextMemory(mask_head, "cpu", shared)
    a.bind()
    b.bind()
    a.bind()
    assert shared.nbytes == 5 << 20  # the largest, not 8 MiB
    assert backbone.bound[-1] == (shared.buffer.data_ptr(), 3 << 20)
    assert (a.peak_bytes, b.peak_bytes) == (3 << 20, 5 << 20)


def test_an_unsizable_shape_is_an_error():
    with pytest.raises(BackendError, match="could not size"):
        ContextMemory(FakeContext([-1]), "cpu").bind()
