"""Listing a folder catalogue's photos: every image file under it, in path order, hidden
ones left out; symlink loops and links to nothing are reported, not followed."""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import NamedTuple

from retrieval.catalogues.images import IMAGE_SUFFIXES
from retrieval.catalogues.metadata import Problems


def list_images(root: Path, metadata_path: Path | None, problems: Problems) -> dict[str, str]:
    """Relative posix path -> path (as a string: `str(root / rel)`, without a Path object a
    file) of every image file under the folder (hidden ones left out), in path order; symlink
    loops and links to nothing named like images are skipped and reported. Symlinked folders
    are not entered."""
    skip = {metadata_path.resolve()} if metadata_path else set()
    prefix = "" if str(root) == "." else str(root).rstrip(os.sep) + os.sep
    images = {}
    for rel, entry in sorted(_entries(root).items(), key=lambda e: e[0].split("/")):
        image_name = _is_image_name(entry.name)
        problem = _link_problem(Path(entry.path)) if entry.is_symlink() else None
        if problem == "symlink loops skipped" or (problem and image_name):
            problems.add(problem, rel)
        elif not problem and image_name and entry.is_file():
            metadata = (
                skip and entry.name == metadata_path.name and Path(entry.path).resolve() in skip
            )
            images.update({} if metadata else {rel: prefix + rel.replace("/", os.sep)})
    return images


def _entries(root: Path) -> dict[str, os.DirEntry]:
    """The directory entry of every file, folder and link under `root` whose parts do not
    start with '.', by relative posix path (one scandir a folder; an entry knows whether it
    is a file or a link without another system call)."""
    found, folders = {}, [("", str(root))]
    while folders:
        prefix, folder = folders.pop()
        with os.scandir(folder) as listing:
            for entry in listing:
                if entry.name.startswith("."):
                    continue
                rel = prefix + entry.name
                found[rel] = entry
                if entry.is_dir(follow_symlinks=False):
                    folders.append((f"{rel}/", entry.path))
    return found


_IMAGE_ENDINGS = tuple(IMAGE_SUFFIXES)


def _is_image_name(name: str) -> bool:
    """An image's name by its suffix (hidden names never get here: `_entries` leaves them out)."""
    return name.lower().endswith(_IMAGE_ENDINGS)


def _link_problem(path: Path) -> str | None:
    """What is wrong with a symlink: a loop, or nothing at its end; None when it is fine."""
    try:
        path.resolve(strict=True)
    except RuntimeError:  # Python 3.11 and 3.12 name a loop so
        return "symlink loops skipped"
    except OSError as err:
        return "symlink loops skipped" if err.errno == errno.ELOOP else "broken links skipped"
    return None


class FileStat(NamedTuple):
    """What the file system says of a photo file that changes whenever its bytes may have:
    size, inode, modification and change times (the change time also moves when a file is
    rewritten with its old modification time put back: `cp -p`, `rsync -t`)."""

    size: int
    inode: int
    mtime_ns: int
    ctime_ns: int

    @property
    def record(self) -> str:
        """The stat record as the file-hash table keeps it."""
        return f"{self.size}:{self.inode}:{self.mtime_ns}:{self.ctime_ns}"


def file_stats(paths: list[str]) -> list[FileStat | None]:
    """One stat call per path; None where the file cannot be stat'ed now."""
    out: list[FileStat | None] = []
    for path in paths:
        try:
            s = os.stat(path)
        except OSError:
            out.append(None)
            continue
        out.append(FileStat(s.st_size, s.st_ino, s.st_mtime_ns, s.st_ctime_ns))
    return out
