"""The .eml files of the file outbox (no SMTP server: `<DOA_VAR_DIR>/mail/`, see EmlSender).
Each names its recipient, so none outlives what it belongs to: the files of an erased or
unsubscribed subscription or of a removed contact go once that is committed; a file whose
e-mail the database no longer holds (one written while its recipient was being erased) and
every file older than MAIL_FILES_KEEP_DAYS go at the worker's next housekeeping."""
from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Callable, Iterable, Iterator

from shared.config import Config

# "<UTC time>-n<notification id>[-<n>].eml", as EmlSender names them.
_NAME = re.compile(r"\d{8}T\d{6}\.\d{6}Z-n(\d+)(?:-\d+)?\.eml")
_TEMPORARY = re.compile(r"\..*\.tmp")
TEMPORARY_KEPT_SECONDS = 3600  # a half-written file of a worker that died while writing it


def mail_folder(config: Config) -> Path:
    return config.var_dir / "mail"


def _mail_files(folder: Path) -> Iterator[tuple[Path, int | None]]:
    """Every .eml file in `folder` and the notification it holds (None: a name not ours)."""
    try:
        entries = list(Path(folder).iterdir())
    except FileNotFoundError:
        return
    for path in entries:
        if path.suffix == ".eml":
            match = _NAME.fullmatch(path.name)
            yield path, int(match.group(1)) if match else None


def _remove(path: Path) -> bool:
    try:
        path.unlink()
        return True
    except FileNotFoundError:  # another process removed it first
        return False


def remove_mail_of(folder: Path, notification_ids: Iterable[int]) -> int:
    """Remove the files of these notifications; answer how many went."""
    wanted = set(notification_ids)
    if not wanted:
        return 0
    return sum(_remove(path) for path, held in _mail_files(folder) if held in wanted)


def sweep(folder: Path, keep_days: int, still_held: Callable[[list[int]], set[int]],
          now: float | None = None) -> int:
    """Remove the files older than `keep_days` and those whose notification `still_held`
    (given ids, answers those the database still holds) no longer knows; answer how many."""
    now = time.time() if now is None else now
    oldest = now - keep_days * 86400
    files = list(_mail_files(folder))
    held = still_held(sorted({i for _, i in files if i is not None})) if files else set()
    removed = 0
    for path, notification_id in files:
        try:
            written = path.stat().st_mtime
        except FileNotFoundError:
            continue
        if written < oldest or (notification_id is not None and notification_id not in held):
            removed += _remove(path)
    try:
        temporary = [p for p in Path(folder).iterdir() if _TEMPORARY.fullmatch(p.name)]
    except FileNotFoundError:
        temporary = []
    for path in temporary:
        try:
            if path.stat().st_mtime < now - TEMPORARY_KEPT_SECONDS:
                removed += _remove(path)
        except FileNotFoundError:
            continue
    return removed
