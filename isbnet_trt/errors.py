"""User-facing errors: bad input that a command line reports in one line (exit status 2)."""


class IsbnetError(Exception):
    """Base of every error caused by the user's input (files, arrays, options), not by a bug."""
