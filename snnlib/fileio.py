"""Files that are never half-written: results and checkpoints go through :func:`atomic_write`.

- The temp file is ``<name>.<pid>.<random>.tmp`` in the target's folder, created with mode
  ``0o666`` filtered by the umask (as ``open`` would; ``mkstemp`` gave 0600), so a result or
  checkpoint is as readable as any other file the user writes.
- A write killed midway (SIGKILL, power loss) can leave its temp file behind; the next write
  of the same target removes the temp files of processes that no longer run.
- :func:`folder_lock` serialises writers of one folder across processes (``fcntl.flock`` on
  the folder itself, so no lock file is left behind).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import os
import secrets
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True


def stale_temp_files(path: str | Path) -> list[Path]:
    """Temp files of ``path`` left by writers that no longer run (see the module docstring)."""
    path = Path(path)
    out = []
    for tmp in path.parent.glob(f"{path.name}.*.tmp"):
        parts = tmp.name[len(path.name) + 1 :].split(".")
        if len(parts) == 3 and parts[0].isdigit() and not _alive(int(parts[0])):
            out.append(tmp)
    return out


def atomic_write(path: str | Path, write: Callable[[IO], None], binary: bool = False) -> Path:
    """Call ``write(file)`` on a temp file in ``path``'s folder, then rename it to ``path``.

    A reader never sees a half-written file, and an exception (or an interrupted kernel)
    leaves the previous ``path`` intact: earlier results and checkpoints are never lost. The
    file gets the umask's mode; stale temp files of dead writers of ``path`` are removed.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    for stale in stale_temp_files(path):
        with contextlib.suppress(FileNotFoundError):
            stale.unlink()
    tmp = path.parent / f"{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb" if binary else "w") as f:
            write(f)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return path


@contextlib.contextmanager
def folder_lock(folder: str | Path, timeout: float = 120.0) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``folder`` (created if missing) for the block.

    Writers of files in one folder that check-then-write (a result file that must not
    replace another run's) run one after the other; after ``timeout`` seconds of waiting a
    :class:`TimeoutError` names the folder.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder, os.O_RDONLY)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                    raise
                if time.monotonic() > deadline:
                    raise TimeoutError(
                        f"another process has held the lock on {folder} for over {timeout:.0f} s"
                    ) from exc
                time.sleep(0.05)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def file_sha256(path: str | Path) -> str:
    """The sha256 of a file's bytes, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def arrays_sha256(*arrays) -> str:
    """One sha256 over the dtype, shape and bytes of each array, in order (what a cache or a
    user's data set is identified by)."""
    import numpy as np

    h = hashlib.sha256()
    for a in arrays:
        a = np.ascontiguousarray(a)
        h.update(f"{a.dtype.str}{a.shape}".encode())
        h.update(memoryview(a).cast("B"))
    return h.hexdigest()
