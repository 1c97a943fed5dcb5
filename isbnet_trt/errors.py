"""User-facing errors: what a command line reports in one line (exit status 2). At the root so
that every layer's errors can join it, down to the plugins (TensorRT or CUDA missing)."""


class IsbnetError(Exception):
    """Base of every error the user can act on, not caused by a bug: bad input (files, arrays,
    options, checkpoints, configs) or an optional piece missing here (TensorRT, a CUDA device)."""
