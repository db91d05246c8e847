"""Listing a folder catalogue's photos: every image file under it, in path order, hidden
ones left out; symlink loops and links to nothing are reported, not followed."""

from __future__ import annotations

import errno
import os
from pathlib import Path

from retrieval.catalogues.images import IMAGE_SUFFIXES
from retrieval.catalogues.metadata import Problems


def list_images(root: Path, metadata_path: Path | None, problems: Problems) -> dict[str, Path]:
    """Relative posix path -> path of every image file under the folder (hidden ones
    left out), in path order; symlink loops and links to nothing named like images are
    skipped and reported. Symlinked folders are not entered."""
    skip = {metadata_path.resolve()} if metadata_path else set()
    images = {}
    for rel, entry in sorted(_entries(root).items(), key=lambda e: e[0].split("/")):
        path = root / rel
        problem = _link_problem(path) if entry.is_symlink() else None
        if problem == "symlink loops skipped" or (problem and _is_image_name(path)):
            problems.add(problem, rel)
        elif not problem and _is_image_name(path) and entry.is_file():
            metadata = skip and path.name == metadata_path.name and path.resolve() in skip
            images.update({} if metadata else {rel: path})
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


def _is_image_name(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES


def _link_problem(path: Path) -> str | None:
    """What is wrong with a symlink: a loop, or nothing at its end; None when it is fine."""
    try:
        path.resolve(strict=True)
    except RuntimeError:  # Python 3.11 and 3.12 name a loop so
        return "symlink loops skipped"
    except OSError as err:
        return "symlink loops skipped" if err.errno == errno.ELOOP else "broken links skipped"
    return None
