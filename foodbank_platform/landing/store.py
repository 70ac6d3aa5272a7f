"""The landing zone: a local folder or an S3 prefix, behind one small interface.

Every delivered file is kept here as delivered and the loader reads only from here, so raw can always be
reloaded from landing (docs/design.md). Writes are atomic (temp name + rename locally; a single PUT or a
completed multipart upload on S3), so a reader never sees half a file. Keys are relative, with `/` separators:
`dms/wms/wms/inventory_transactions/LOAD00000001.csv`.
"""

from __future__ import annotations

import contextlib
import fnmatch
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Protocol


@dataclass(frozen=True)
class StoredFile:
    key: str  # relative to the store root
    size: int
    mtime: float  # seconds since the epoch


class LandingStore(Protocol):
    uri: str

    def list(self, prefix: str = "", pattern: str = "*") -> list[StoredFile]: ...
    def read_bytes(self, key: str) -> bytes: ...
    def write_bytes(self, key: str, data: bytes) -> None: ...
    def put_file(self, key: str, local_path: Path) -> None: ...
    def exists(self, key: str) -> bool: ...
    def local_copy(self, key: str) -> contextlib.AbstractContextManager[Path]: ...
    def local_path(self, key: str) -> Path | None: ...  # a path readers may use in place, if any


class LocalStore:
    def __init__(self, root: Path | str):
        self.root = Path(root).resolve()
        self.uri = self.root.as_uri()

    def _path(self, key: str) -> Path:
        return self.root / key

    def list(self, prefix: str = "", pattern: str = "*") -> list[StoredFile]:
        base = self._path(prefix)
        if not base.exists():
            return []
        out = []
        # Plain strings and scandir's cached stat: a day of DMS files is thousands of entries, listed
        # every 10 minutes.
        root = str(self.root) + os.sep
        pending = [str(base)]
        while pending:
            with os.scandir(pending.pop()) as entries:
                for e in entries:
                    if e.is_dir():
                        if not e.is_symlink():  # as os.walk: never descend through a link
                            pending.append(e.path)
                    elif not e.name.startswith(".tmp-") and fnmatch.fnmatch(e.name, pattern):
                        st = e.stat()
                        key = e.path.removeprefix(root).replace(os.sep, "/")
                        out.append(StoredFile(key, st.st_size, st.st_mtime))
        return sorted(out, key=lambda f: f.key)

    def read_bytes(self, key: str) -> bytes:
        with open(os.path.join(self.root, key), "rb") as fh:
            return fh.read()

    def write_bytes(self, key: str, data: bytes) -> None:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=target.parent)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)

    def put_file(self, key: str, local_path: Path) -> None:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=target.parent)
        os.close(fd)
        shutil.copyfile(local_path, tmp)
        os.replace(tmp, target)

    def exists(self, key: str) -> bool:
        return self._path(key).exists()

    @contextlib.contextmanager
    def local_copy(self, key: str) -> Iterator[Path]:
        # A local file is already local; readers must not modify it.
        yield self._path(key)

    def local_path(self, key: str) -> Path | None:
        return self._path(key)
