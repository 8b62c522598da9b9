"""Privacy processing of uploads: what is published carries no metadata, no location and,
when asked, no recognisable face. Each module cleans one kind of file, from a file on disk
to new files on disk; the worker stores what they make."""
from __future__ import annotations


class Unprocessable(Exception):
    """The file cannot be cleaned (corrupt, truncated, a decompression bomb, not what its
    first bytes claimed): it is rejected, with this reason, and nothing of it is kept."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason
