"""A folder of the shop's own photos, with its metadata in the layout the shop exports.

Images anywhere under the folder; metadata from `metadata.csv` / `metadata.jsonl`, a file
named by the caller (a Kaggle-style `styles.csv`), or the folder's only CSV. Rows match
images by a `file` column (path relative to the folder) or by an `id` column equal to the
image's file name without extension. Rows without an image or an id, images without a row,
repeated ids and malformed rows are skipped and reported (`report`), never fatal.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from pathlib import Path

from retrieval.catalogues.base import CatalogueBase, Item, LoadedImage
from retrieval.catalogues.images import IMAGE_SUFFIXES, read_image
from retrieval.catalogues.metadata import Metadata, Problems, find_metadata, read_metadata
from retrieval.catalogues.schema import (
    CatalogueSchema,
    find_override,
    infer_schema,
    read_override,
)

log = logging.getLogger(__name__)


class FolderCatalogue(CatalogueBase):
    """Images in a folder (recursively) with optional metadata; see the module docstring."""

    def __init__(self, root: str | Path, metadata: str | Path | None = None):
        self.root = Path(root)
        if not self.root.is_dir():
            raise FileNotFoundError(f"catalogue folder {self.root} does not exist")
        self.metadata_path = find_metadata(self.root, metadata)
        self.name = f"folder:{self.root.resolve()}"
        if self.metadata_path is not None:
            self.name += f"|{self.metadata_path.resolve()}"
        self.problems = Problems()
        images = self._images()
        if self.metadata_path is None:
            self.schema = CatalogueSchema()
            self.items = [Item(rel, {}, "", str(path)) for rel, path in images.items()]
            return
        table = read_metadata(self.metadata_path)
        self.problems = table.problems
        override_path = find_override(self.metadata_path.parent, self.root)
        override = read_override(override_path) if override_path else None
        try:
            self.schema = infer_schema(table.columns, table.rows, override)
        except ValueError as err:
            raise ValueError(f"{override_path}: {err}") from None
        self.items = self._match(table, images)
        for line in self.problems.lines():
            log.warning("%s: %s", self.metadata_path, line)

    def _images(self) -> dict[str, Path]:
        """Relative posix path -> path of every image file under the folder."""
        skip = {self.metadata_path.resolve()} if self.metadata_path else set()
        return {
            p.relative_to(self.root).as_posix(): p
            for p in sorted(self.root.rglob("*"))
            if p.is_file()
            and p.suffix.lower() in IMAGE_SUFFIXES
            and not any(part.startswith(".") for part in p.relative_to(self.root).parts)
            and p.resolve() not in skip
        }

    def _match(self, table: Metadata, images: dict[str, Path]) -> list[Item]:
        schema = self.schema
        if not schema.file_column and not schema.id_column:
            raise ValueError(
                f"{table.path}: no 'file' column (the image's path in the folder) and no 'id' "
                "column (the image's file name without extension): add one, or name it in "
                "catalogue.json ('file' or 'id')"
            )
        by_stem: dict[str, str] = {}
        for rel in images:
            by_stem.setdefault(Path(rel).stem, rel)
        items, seen, used = [], {}, set()  # seen: id -> the line it was first on
        for row, line in zip(table.rows, table.lines):
            rel = row.get(schema.file_column) if schema.file_column else None
            rel = rel if rel in images else by_stem.get(row.get(schema.id_column or "", ""))
            item_id = row.get(schema.id_column) if schema.id_column else rel
            if schema.id_column and not item_id:
                self.problems.add(
                    "rows without an id skipped", f"line {line}", f"{schema.id_column!r} is empty"
                )
            elif not rel:
                wanted = row.get(schema.file_column or "") or row.get(schema.id_column or "")
                self.problems.add(
                    "rows without an image skipped", f"line {line}", f"no image {wanted!r}"
                )
            elif item_id in seen:
                self.problems.add(
                    "rows with a repeated id skipped",
                    f"line {line}",
                    f"id {item_id!r}, first on line {seen[item_id]}",
                )
            else:
                seen[item_id] = line
                used.add(rel)
                items.append(self._item(row, item_id, images[rel]))
        for rel in images:
            if rel not in used:
                self.problems.add("images without a metadata row skipped", rel)
        return items

    def _item(self, row: dict[str, str], item_id: str, path: Path) -> Item:
        schema = self.schema
        attributes = {n: row[n] for n in schema.attributes if row.get(n)}
        title = row.get(schema.title_column or "", "")
        caption = row.get(schema.caption_column or "", "") or title or schema.caption(attributes)
        return Item(item_id, attributes, caption, str(path), title)

    def load(self, indices: Sequence[int]) -> list[LoadedImage]:
        loaded = []
        for i in indices:
            item = self.items[i]
            loaded.append(
                LoadedImage(item, *read_image(Path(item.source).read_bytes(), item.source))
            )
        return loaded

    def fingerprint(self) -> str:
        digest = hashlib.sha256(super().fingerprint().encode())
        for item in self.items:
            stat = Path(item.source).stat()
            digest.update(f"{stat.st_size}:{stat.st_mtime_ns}".encode())
        return digest.hexdigest()[:16]

    def report(self) -> dict:
        """Items matched and what was skipped, for `circhat catalogue inspect`."""
        return {
            "folder": str(self.root),
            "metadata": str(self.metadata_path) if self.metadata_path else None,
            "items": len(self.items),
            "skipped": self.problems.as_dict(),
            "notes": list(self.problems.notes),
        }
