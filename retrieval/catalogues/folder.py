"""A folder of the shop's own photos, with its metadata in the layout the shop exports.

Images anywhere under the folder (or under a folder of their own, `images`); metadata from
`metadata.csv` / `metadata.jsonl`, a file named by the caller (a Kaggle-style `styles.csv`, a
shop's export), or the folder's only CSV. In a plain layout, rows match images by a `file`
column (path relative to the folder) or by an `id` column equal to the image's file name
without extension. A shop platform's export (Shopify, WooCommerce, Magento, a Merchant Center
feed, H&M articles: `layouts`) is read as the platform writes it: its products find their
photos by the paths, URLs or file names it gives, and variants sharing a photo (sizes) become
one item per colourway, carrying the product's group. Rows without an image or an id, images without a row,
repeated ids and malformed rows are skipped and reported (`report`), never fatal.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path

from retrieval.catalogues.base import IMAGES_MARK, CatalogueBase, Item, LoadedImage
from retrieval.catalogues.images import read_image
from retrieval.catalogues.layouts import (
    PLAIN,
    PRICE_COLUMN,
    clean_prices,
    image_column,
    layouts,
    read_products,
    recognise,
)
from retrieval.catalogues.layouts.photos import PhotoFinder
from retrieval.catalogues.layouts.rows import ProductRow, plain_text
from retrieval.catalogues.layouts.variants import collapse
from retrieval.catalogues.listing import FileStat, file_stats, list_images
from retrieval.catalogues.metadata import Metadata, Problems, find_metadata, read_metadata
from retrieval.catalogues.schema import (
    AttributeOverride,
    CatalogueSchema,
    SchemaOverride,
    find_override,
    infer_schema,
    key_columns,
    read_override,
)

log = logging.getLogger(__name__)


@dataclass
class _SchemaFile:
    """The schema file beside the metadata (if any): its errors name it."""

    path: Path | None
    override: SchemaOverride | None

    def apply(self, function, *args):
        """function(*args, override), a ValueError prefixed with the schema file's name."""
        try:
            return function(*args, self.override)
        except ValueError as err:
            raise ValueError(f"{self.path}: {err}") from None

    def with_keys(self, **keys: str) -> _SchemaFile:
        """The override with these key columns ('file', 'id') where the file names none."""
        override = self.override or SchemaOverride()
        unset = {k: v for k, v in keys.items() if getattr(override, k) is None}
        return _SchemaFile(self.path, override.model_copy(update=unset))

    def for_export(self, attributes: list[str]) -> _SchemaFile:
        """Over an export's normalised columns: 'id' and 'title', and the attributes its
        layout offers, unless the file names others."""
        override = self.override or SchemaOverride()
        keys = {"id": override.id or "id", "title": override.title or "title"}
        if override.attributes is None:
            keys["attributes"] = {name: AttributeOverride() for name in attributes}
        return _SchemaFile(self.path, override.model_copy(update=keys))


def _text(row: ProductRow) -> dict[str, str]:
    """An export item's description and tags (for the text search), where it has them."""
    return {k: v for k, v in (("description", row.description), ("tags", row.tags)) if v}


def _varying(rows: list[dict[str, str]]) -> list[str]:
    """The attributes of an export's items, in first-seen order, but those with one value
    for every item (a constant says nothing about an item; the price is kept, which bounds
    answer to whatever it is)."""
    values: dict[str, set[str]] = {}
    for row in rows:
        for key, value in row.items():
            values.setdefault(key, set()).add(value)
    given = {k: sum(1 for row in rows if row.get(k)) for k in values}
    return [
        k
        for k, seen in values.items()
        if len(seen) > 1 or given[k] < len(rows) or k == PRICE_COLUMN
    ]


class FolderCatalogue(CatalogueBase):
    """Images in a folder (recursively) with optional metadata; see the module docstring."""

    def __init__(
        self,
        root: str | Path,
        metadata: str | Path | None = None,
        images: str | Path | None = None,
    ):
        self.root = Path(root)
        if self.root.is_file():
            raise ValueError(
                f"catalogue folder {self.root} is a file: give --catalogue the folder of the "
                "photos, and this file as --metadata"
            )
        if not self.root.is_dir():
            raise FileNotFoundError(f"catalogue folder {self.root} does not exist")
        self.images_root = Path(images) if images else self.root
        if self.images_root.is_file():
            raise ValueError(
                f"image folder {images} is a file: give --images the folder of the photos"
            )
        if not self.images_root.is_dir():
            raise FileNotFoundError(f"image folder {images} does not exist: check --images")
        self.metadata_path = find_metadata(self.root, metadata)
        self.name = f"folder:{self.root.resolve()}"
        if self.metadata_path is not None:
            self.name += f"|{self.metadata_path.resolve()}"
        if images:
            self.name += f"{IMAGES_MARK}{self.images_root.resolve()}"
        self.problems = Problems()
        self.layout, self.products = layouts()[PLAIN], {}
        if self.metadata_path is None:
            self.schema = CatalogueSchema()
            images = self._images()
            self.items = [Item(rel, {}, "", str(path)) for rel, path in images.items()]
            return
        table = read_metadata(self.metadata_path)
        self.problems = table.problems
        images = self._images()
        override_path = find_override(self.metadata_path.parent, self.root)
        override = read_override(override_path) if override_path else None
        self.layout = recognise(table.columns)
        read = self._read_rows if self.layout.passthrough else self._read_export
        read(table, images, _SchemaFile(override_path, override))
        for line in self.problems.lines():
            log.warning("%s: %s", self.metadata_path, line)

    def _read_rows(self, table: Metadata, images: dict[str, Path], override: _SchemaFile):
        """Rows matched to images by their file or id column, each row one item."""
        id_column, file_column = override.apply(key_columns, table.columns)
        if not file_column and image_column(table.columns):  # 'image_url': paths or URLs
            file_column = image_column(table.columns)
            override = override.with_keys(file=file_column)
        unnamed = not (file_column or id_column) and images  # found by its values: "Item Number"
        found = unnamed and PhotoFinder(images).naming_column(table.columns, table.rows)
        if found:
            override = override.with_keys(**{found[0]: found[1]})
            id_column, file_column = override.apply(key_columns, table.columns)
        if not images and table.rows:
            raise ValueError(
                f"{self.images_root}: no images in it or in its folders, for the "
                f"{len(table.rows)} rows of {table.path}: put the photos there, or give "
                "their folder with --images"
            )
        matched = self._match(table, images, id_column, file_column)
        if images and not matched:
            raise ValueError(self._nothing_matched(table, id_column, file_column))
        self._note_rows_without_photo(len(table.rows), len(matched))
        rows = [row for row, _, _ in matched]  # the schema of the photographed rows only
        currency = clean_prices(table)
        self.schema = override.apply(infer_schema, table.columns, rows)
        self._label_price(currency)
        self.items = [self._item(row, item_id, path) for row, item_id, path in matched]

    def _read_export(self, table: Metadata, images: dict[str, Path], override: _SchemaFile):
        """A platform's export: its products read as the platform writes them, matched to
        their photos by their image references, variants sharing a photo made one item."""
        products = read_products(table, self.layout)
        self.problems.notes.extend(products.notes)
        matched = self._match_products(products.rows, images)
        if products.rows and not matched:  # an export's photos are elsewhere, or not named
            raise ValueError(self._no_product_matched(table, products.rows))
        self._note_rows_without_photo(len(products.rows), len(matched))
        ways = collapse(matched)
        rows = [{"id": w.row.id, "title": w.row.title, **w.row.attributes} for w in ways]
        offered = _varying([w.row.attributes for w in ways])
        columns = ["id", "title", *offered]
        self.schema = override.for_export(offered).apply(infer_schema, columns, rows)
        self._label_price(products.currency)
        self.items = [
            replace(self._item(row, w.row.id, images[w.photo], w.row.group), **_text(w.row))
            for row, w in zip(rows, ways)
        ]
        self.products = {
            "products": len({w.row.group or w.row.id for w in ways}),
            "colourways": len(ways),
            "variants collapsed": sum(w.variants - 1 for w in ways),
            "currency": products.currency or None,
        }

    def _label_price(self, currency: str) -> None:
        """The price attribute's label names its currency ('Price (USD)'), where known."""
        spec = self.schema.attributes.get(PRICE_COLUMN)
        if currency and spec is not None and spec.kind == "numeric":
            spec.label = f"{spec.label or 'Price'} ({currency})"

    def _match_products(self, products: list[ProductRow], images: dict[str, Path]):
        """(product, its photo) of each product whose image references name a photo of the
        folder; the others reported, and photos no product names."""
        finder = PhotoFinder(images)
        matched, seen, used = [], {}, set()
        for product in products:
            photo = finder.first(product.images, product.id)
            where = f"line {product.line}"
            if not product.id:
                self.problems.add("rows without an id skipped", where, "no id")
            elif not photo:
                wanted = product.images[0] if product.images else product.id
                self.problems.add("rows without an image skipped", where, f"no image {wanted!r}")
            elif product.id in seen:
                self.problems.add(
                    "rows with a repeated id skipped",
                    where,
                    f"id {product.id!r}, first on line {seen[product.id]}",
                )
            else:
                seen[product.id] = product.line
                matched.append((product, photo))
                used.update(filter(None, map(finder.find, product.images)))
                used.add(photo)
        for rel in images:
            if rel not in used:
                self.problems.add("images without a metadata row skipped", rel)
        return matched

    def _no_product_matched(self, table: Metadata, products: list[ProductRow]) -> str:
        """The message for an export of which no product names a photo of the image folder."""
        example = next((p.images[0] for p in products if p.images), None)
        names = f" (the first names {example!r})" if example else ""
        return (
            f"metadata file {table.path} ({self.layout.label}): none of its {len(products)} "
            f"products names a photo in {self.images_root}{names}: give the folder its "
            "photos with --images DIR (paths in the export are read relative to it, and URLs "
            "by their file names)"
        )

    def _images(self) -> dict[str, str]:
        """Relative posix path -> path of every image file under the images folder."""
        return list_images(self.images_root, self.metadata_path, self.problems)

    def _match(
        self,
        table: Metadata,
        images: dict[str, Path],
        id_column: str | None,
        file_column: str | None,
    ) -> list[tuple[dict[str, str], str, Path]]:
        """(row, item id, image) of each row matched to an image; the others reported."""
        if not file_column and not id_column:
            raise ValueError(
                f"{table.path}: no 'file' column (the image's path in the folder) and no 'id' "
                "column (the image's file name without extension): add one, or name it in "
                "catalogue.json ('file' or 'id')"
            )
        by_stem: dict[str, str] = {}
        for rel in images:
            by_stem.setdefault(Path(rel).stem, rel)
        finder = PhotoFinder(images)
        matched, seen, used = [], {}, set()  # seen: id -> the line it was first on
        for row, line in zip(table.rows, table.lines):
            rel = row.get(file_column) if file_column else None
            if rel and rel not in images:  # '/photos/a.jpg', a URL, a file name
                rel = finder.find(rel)
            rel = rel if rel in images else by_stem.get(row.get(id_column or "", ""))
            item_id = row.get(id_column) if id_column else rel
            if id_column and not item_id:
                self.problems.add(
                    "rows without an id skipped", f"line {line}", f"{id_column!r} is empty"
                )
            elif not rel:
                wanted = row.get(file_column or "") or row.get(id_column or "")
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
                matched.append((row, item_id, images[rel]))
        for rel in images:
            if rel not in used:
                self.problems.add("images without a metadata row skipped", rel)
        return matched

    def _nothing_matched(self, table: Metadata, id_column: str | None, file_column: str | None):
        """The message for metadata of which no row matched an image of the folder."""
        where = f"metadata file {table.path}"
        found = self.problems.lines()
        why = f" ({found[0]})" if found else ""
        if not table.rows:
            return f"{where} has no readable rows{why}: give it one row per image under a header"
        key = (
            f"a {file_column!r} column naming"
            if file_column
            else f"an {id_column!r} column equal to"
        )
        return (
            f"{where}: none of its {len(table.rows)} rows matches an image in {self.root}{why}: "
            f"rows need {key} the image's path in the folder"
            + ("" if file_column else " without extension")
        )

    def _note_rows_without_photo(self, rows: int, matched: int) -> None:
        """A note when most metadata rows have no photo (a whole shop's file beside a few)."""
        missing = self.problems.count("rows without an image skipped")
        if missing > rows / 2:
            self.problems.notes.insert(
                0,
                f"{missing} of {rows} metadata rows have no photo: the schema is read from the "
                f"{matched} that do",
            )

    def _item(self, row: dict[str, str], item_id: str, path: str, group: str = "") -> Item:
        schema = self.schema
        attributes = {n: row[n] for n in schema.attributes if row.get(n)}
        title = plain_text(row.get(schema.title_column or "", ""))  # '<b>Tee</b>': 'Tee'
        caption = row.get(schema.caption_column or "", "") or title or schema.caption(attributes)
        description = plain_text(row.get(schema.description_column or "", ""))
        return Item(item_id, attributes, caption, str(path), title, group, description)

    def load(self, indices: Sequence[int]) -> list[LoadedImage]:
        loaded = []
        for i in indices:
            item = self.items[i]
            loaded.append(
                LoadedImage(item, *read_image(Path(item.source).read_bytes(), item.source))
            )
        return loaded

    @cached_property
    def file_stats(self) -> list[FileStat | None]:
        """Each item's photo file as the file system described it when first asked (None: it
        could not be stat'ed): one stat call a file for this opened catalogue, shared by its
        fingerprint and a build's file-hash lookups."""
        return file_stats([item.source for item in self.items])

    def fingerprint(self) -> str:
        records = []
        for item, stat in zip(self.items, self.file_stats):
            if stat is None:  # could not be stat'ed when first asked: again (its own error)
                fresh = os.stat(item.source)
                size, mtime_ns = fresh.st_size, fresh.st_mtime_ns
            else:
                size, mtime_ns = stat.size, stat.mtime_ns
            records.append(f"{size}:{mtime_ns}")
        text = super().fingerprint() + "".join(records)  # as one update per record would hash
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def unreadable(self, batch: int = 64) -> list[tuple[str, str]]:
        """(path, reason) of each matched image that does not decode: every one is read."""
        out = []
        for start in range(0, len(self.items), batch):
            indices = range(start, min(start + batch, len(self.items)))
            for image in self.load(indices):
                if image.image is None:
                    out.append(
                        (
                            Path(image.item.source).relative_to(self.images_root).as_posix(),
                            image.error,
                        )
                    )
        return out

    def report(self) -> dict:
        """Items matched with a readable image and what was skipped, for `circhat catalogue
        inspect` (it decodes every image)."""
        problems = Problems({k: list(v) for k, v in self.problems.found.items()})
        for where, reason in self.unreadable():
            problems.add("unreadable images skipped", where, reason.split(": ", 1)[-1])
        return {
            "folder": str(self.root),
            "images": str(self.images_root),
            "metadata": str(self.metadata_path) if self.metadata_path else None,
            "layout": self.layout.label if self.metadata_path else None,
            **self.products,
            "items": len(self.items) - problems.count("unreadable images skipped"),
            "skipped": problems.as_dict(),
            "notes": list(self.problems.notes),
        }
