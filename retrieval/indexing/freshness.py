"""Is an index still the catalogue it was built from? A folder catalogue's photos and metadata
may change after the build: an index of the old state is refused, never searched."""

from __future__ import annotations

from pathlib import Path

from retrieval.catalogues import Catalogue
from retrieval.index.search import SearchIndex
from retrieval.index.store import rebuild_command


class StaleIndexError(ValueError):
    """The catalogue changed since its index was built; the message says how to rebuild."""


def check_current(index: SearchIndex, folder: Path) -> Catalogue | None:
    """Raise StaleIndexError (one line) when the folder catalogue `index` was built from has
    changed since: photos added, removed or replaced, or its metadata edited; else return that
    catalogue as opened for the check (None where nothing was opened). Built-in catalogues are
    rendered from a seed and never change; a program's own sample is not checked."""
    manifest = index.manifest
    built_from = manifest.catalogue
    if not built_from.is_folder or built_from.sample is not None:
        return None
    rebuild = f"rebuild it with `{rebuild_command(folder, manifest)}`"
    try:
        now = built_from.open()
    except (OSError, ValueError) as err:
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise StaleIndexError(
            f"index {folder} was built from {built_from.source}, which cannot be read now "
            f"({reason}); fix the catalogue or {rebuild}"
        ) from None
    if now.fingerprint() == manifest.catalogue_fingerprint:
        return now
    indexed = {item.id for item in index.items}
    current = {item.id for item in now.items}
    added, removed = len(current - indexed), len(indexed - current)
    change = (
        f"{added} photos added and {removed} removed"
        if added or removed
        else "photos replaced, metadata edited, or its rows read differently by this version "
        "of circhat"
    )
    raise StaleIndexError(
        f"index {folder} is out of date: {built_from.source} changed since it was built "
        f"({change}); {rebuild} (unchanged photos come from the embedding cache)"
    )
