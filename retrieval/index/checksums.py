"""Checksums of an index folder's files: recorded in the manifest at save, checked at open.

XXH3-128 over the whole of every file: it reads at memory speed (about 30 GB/s on one core
here), so the 1.5 GB vectors.npy of a 1M-item index costs about 0.1 s, and it is hashed on a
thread beside the parsing of the items (see store.read_folder). Any change of a byte, a
2 KB overwrite anywhere included, changes the checksum.
"""

from __future__ import annotations

import json
import mmap
from pathlib import Path

import xxhash
from pydantic import BaseModel

CHUNK = 1 << 24  # bytes hashed at a time from a memory-mapped file


class FileChecksum(BaseModel):
    size: int
    xxh3_128: str


class ChecksumMismatch(ValueError):
    """A file of the index is not the one its manifest recorded."""


def of_bytes(data: bytes) -> FileChecksum:
    return FileChecksum(size=len(data), xxh3_128=xxhash.xxh3_128_hexdigest(data))


def of_file(path: Path) -> FileChecksum:
    """The checksum of a file, read through a memory map (no copy in RAM)."""
    digest = xxhash.xxh3_128()
    with open(path, "rb") as f:
        size = f.seek(0, 2)
        if size:
            with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
                view = memoryview(mapped)
                for start in range(0, size, CHUNK):
                    digest.update(view[start : start + CHUNK])
                view.release()
    return FileChecksum(size=size, xxh3_128=digest.hexdigest())


def check_size(path: Path, expected: FileChecksum) -> None:
    """Refuse a file whose size is not the recorded one (cheap: no read)."""
    size = path.stat().st_size
    if size != expected.size:
        raise ChecksumMismatch(f"{size:,} bytes where the build wrote {expected.size:,}")


def check(path: Path, expected: FileChecksum, data: bytes | None = None) -> None:
    """Refuse a file (or its bytes already read) that is not the one recorded."""
    found = of_bytes(data) if data is not None else of_file(path)
    if found.size != expected.size:
        raise ChecksumMismatch(f"{found.size:,} bytes where the build wrote {expected.size:,}")
    if found.xxh3_128 != expected.xxh3_128:
        raise ChecksumMismatch("its checksum differs from the one recorded at build")


def of_manifest(fields: dict) -> str:
    """The checksum of a manifest's fields (its own checksum left out), in a canonical form."""
    canonical = json.dumps(
        {k: v for k, v in fields.items() if k != "manifest_checksum"},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return xxhash.xxh3_128_hexdigest(canonical.encode("utf-8"))
