"""Atomic file writes: a file appears whole under its name or not at all (no half-written outputs,
caches or checkpoints after an error or a kill). Shared by every layer, hence at the root."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_path(dest: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside `dest`; rename it to `dest` only if the block succeeds.

    The temporary file is created with mode 0666 minus the umask, like any file the user's
    programs write (`tempfile.mkstemp` would make it 0600). Raises `FileExistsError` if no free
    temporary name is found (practically never)."""
    dest = Path(dest)
    for _ in range(100):
        tmp = dest.parent / f".{dest.name}.{secrets.token_hex(4)}.tmp"
        try:
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            break
        except FileExistsError:
            continue
    else:
        raise FileExistsError(f"cannot create a temporary file beside {dest}")
    try:
        yield tmp
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_atomic(dest: str | Path, data: bytes | str) -> None:
    """Write `data` (text as UTF-8) to `dest` atomically."""
    with atomic_path(dest) as tmp:
        tmp.write_bytes(data.encode() if isinstance(data, str) else data)
