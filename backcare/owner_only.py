"""Files and folders only their owner can read: everything backcare writes that holds health data.

Created with their final mode (os.open / os.mkdir with a mode, under the process umask, which
can only remove bits), never made first and narrowed with chmod afterwards: there is no moment
at which another local user could open them. Stores, bundles, reports and the data/ folder
use these helpers.
"""

from __future__ import annotations

import os
from pathlib import Path

FILE_MODE = 0o600
DIR_MODE = 0o700


def private_dir(path: str | Path) -> Path:
    """Create folder path (and missing parents) readable by its owner only; an existing folder
    is left as it is. Returns the path."""
    path = Path(path)
    if path.is_dir():
        return path
    missing = []
    p = path
    while not p.exists() and p != p.parent:
        missing.append(p)
        p = p.parent
    for folder in reversed(missing):
        try:
            os.mkdir(folder, DIR_MODE)
        except FileExistsError:  # made meanwhile by another process
            pass
    return path


def restrict_dir(path: str | Path) -> None:
    """Make an existing folder (the checkout's data/, made by git) owner-only, if it is not."""
    if os.stat(path).st_mode & 0o077:
        os.chmod(path, DIR_MODE)


def create_private(path: str | Path) -> int:
    """A new, empty file at path for writing, readable by its owner only (an existing file of
    that name is replaced, so its old mode does not carry over); returns the descriptor."""
    path = Path(path)
    try:
        path.unlink()
    except FileNotFoundError:
        pass
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)


def write_private(path: str | Path, data: bytes) -> None:
    """Write data to a new owner-only file at path, then flush it to disk."""
    fd = create_private(path)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def touch_private(path: str | Path) -> bool:
    """Create path as an empty owner-only file unless it exists; True if it was created.

    Used before SQLite opens a new store: SQLite gives the store's -wal, -shm and -journal
    files the mode of the database file, so they are owner-only too."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    except FileExistsError:
        return False
    return True
