"""A catalogue's schema: its attributes, their values, the title column and the kind of item.

A schema is inferred from the metadata (`infer_schema`) and can be overridden by a small
file beside it (`catalogue.json` or `catalogue.yaml`, see `SchemaOverride`). fmnist-color's
schema is a data file of the same format (`schemas/fmnist-color.json`).
"""

from __future__ import annotations

import json
from collections import Counter
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from retrieval.catalogues import columns as shapes
from retrieval.catalogues import lexicon, roles
from retrieval.catalogues.labels import column_label, label_opaque_columns

SCHEMA_DIR = Path(__file__).parent / "schemas"
OVERRIDE_FILES = ("catalogue.json", "catalogue.yaml", "catalogue.yml")
ID_COLUMNS = ("id", "sku", "item_id", "itemid", "product_id", "productid", "article_id")
FILE_COLUMNS = ("file", "filename", "file_name", "image", "image_path", "path", "img")
TITLE_COLUMNS = (
    "title",
    "name",
    "productdisplayname",
    "product_name",
    "prod_name",
    "product_title",
    "display_name",
)
CAPTION_COLUMNS = ("caption",)
DESCRIPTION_COLUMNS = (
    "description",
    "product_description",
    "long_description",
    "detail_desc",
    "details",
    "desc",
    "body",
    "body_html",
)
TITLE_WORDS = 3  # values this many words long on average are titles, not kinds of item


class AttributeSpec(BaseModel):
    """One attribute: its values as the metadata writes them, in order of frequency."""

    model_config = ConfigDict(extra="forbid")

    label: str = ""
    kind: Literal["categorical", "numeric"] = "categorical"
    role: str | None = None  # the lexicon domain it speaks of: color, garment, gender, ...
    values: list[str] = Field(default_factory=list)
    counts: dict[str, int] = Field(default_factory=dict)  # items per value (when inferred)
    synonyms: dict[str, list[str]] = Field(default_factory=dict)  # value -> phrasings
    parent: str | None = None  # the broader attribute it nests under
    range: tuple[float, float] | None = None  # numeric attributes: smallest, largest
    multi_valued: bool = False  # cells list several values ('Red|Blue'; see columns.py)
    merged: list[str] = Field(default_factory=list)  # columns of its role kept as synonyms


class CatalogueSchema(BaseModel):
    """Attributes (in display order), the id, file, title and caption columns, the kind."""

    model_config = ConfigDict(extra="forbid")

    name: str = ""
    description: str = ""
    id_column: str | None = None
    file_column: str | None = None
    title_column: str | None = None
    caption_column: str | None = None
    description_column: str | None = None  # free text about the item, beside its title
    kind: str | None = None  # the attribute that says what kind of item it is
    caption_template: str | None = None  # e.g. "a {color} {pattern} {category}"
    attributes: dict[str, AttributeSpec] = Field(default_factory=dict)
    ignored: list[str] = Field(default_factory=list)

    @property
    def categorical(self) -> list[str]:
        """Names of the categorical attributes: what a shopper can ask for by name."""
        return [n for n, a in self.attributes.items() if a.kind == "categorical" and a.values]

    def label(self, name: str) -> str:
        spec = self.attributes.get(name)
        return spec.label if spec and spec.label else name

    def role(self, name: str) -> str | None:
        spec = self.attributes.get(name)
        return spec.role if spec else None

    def by_role(self, role: str) -> list[str]:
        return [n for n in self.categorical if self.attributes[n].role == role]

    def ancestors(self, name: str) -> list[str]:
        """The attributes `name` nests under, nearest first."""
        out, seen = [], {name}
        parent = self.attributes[name].parent if name in self.attributes else None
        while parent and parent not in seen and parent in self.attributes:
            out.append(parent)
            seen.add(parent)
            parent = self.attributes[parent].parent
        return out

    def depth(self, name: str) -> int:
        return len(self.ancestors(name))

    def family(self, name: str) -> set[str]:
        """Every attribute of `name`'s nesting chain (itself, broader and narrower ones)."""
        root = ([name, *self.ancestors(name)])[-1]
        return {n for n in self.attributes if n == root or root in self.ancestors(n)}

    def caption(self, attributes: dict[str, str]) -> str:
        """A short description of an item from its attribute values ('Red|Blue' said as
        'Red and Blue')."""
        attributes = {n: " and ".join(shapes.cell_values(v)) for n, v in attributes.items()}
        if self.caption_template:
            filled = self.caption_template.format_map(_BlankWhereMissing(attributes))
            return " ".join(filled.split())
        kind = attributes.get(self.kind or "", "")
        words = [
            attributes[n]
            for n in self.categorical
            if n != self.kind and attributes.get(n) and n not in self.ancestors_of_kind()
        ]
        return " ".join(["a", *words, kind]).strip() if (words or kind) else ""

    def ancestors_of_kind(self) -> set[str]:
        """The attributes broader than the kind (implied by it: subCategory, masterCategory)."""
        return set(self.ancestors(self.kind)) if self.kind else set()


class _BlankWhereMissing(dict):
    def __missing__(self, key: str) -> str:
        return ""


class AttributeOverride(BaseModel):
    """What a schema file may say of one attribute."""

    model_config = ConfigDict(extra="forbid")

    label: str | None = None
    kind: Literal["categorical", "numeric"] | None = None
    role: str | None = None
    synonyms: dict[str, list[str]] = Field(default_factory=dict)
    parent: str | None = None


class SchemaOverride(BaseModel):
    """`catalogue.json` / `catalogue.yaml` beside the metadata: every key is optional.

    `attributes` (when given) chooses the attributes, in order; `ignore` drops columns.
    """

    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    id: str | None = None
    file: str | None = None
    title: str | None = None
    caption: str | None = None
    kind: str | None = None
    caption_template: str | None = None
    attributes: dict[str, AttributeOverride] | None = None
    ignore: list[str] = Field(default_factory=list)


def read_override(path: Path) -> SchemaOverride:
    """Parse and validate a schema file; ValueError naming the file and the bad key."""
    text = path.read_text(encoding="utf-8-sig")
    try:
        if path.suffix in (".yaml", ".yml"):
            import yaml

            data = yaml.safe_load(text)
        else:
            data = json.loads(text)
    except Exception as err:  # json and yaml raise their own types
        raise ValueError(f"{path}: not valid {path.suffix[1:].upper()} ({err})") from None
    try:
        return SchemaOverride.model_validate(data or {})
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "(top level)"
        allowed = ", ".join(SchemaOverride.model_fields)
        hint = f" (keys: {allowed})" if first["type"] == "extra_forbidden" else ""
        raise ValueError(f"{path}: key {where!r}: {first['msg']}{hint}") from None


def find_override(*folders: Path) -> Path | None:
    for folder in folders:
        for name in OVERRIDE_FILES:
            if (folder / name).exists():
                return folder / name
    return None


@lru_cache(maxsize=1)
def fmnist_schema() -> CatalogueSchema:
    """The fmnist-color schema, from its data file."""
    return load_schema(SCHEMA_DIR / "fmnist-color.json")


def load_schema(path: Path) -> CatalogueSchema:
    try:
        return CatalogueSchema.model_validate_json(Path(path).read_text(encoding="utf-8"))
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ValueError(f"schema {path}: key {where!r}: {first['msg']}") from None


def _pick(columns: list[str], names: tuple[str, ...]) -> str | None:
    lowered = {c.lower(): c for c in columns}
    return next((lowered[n] for n in names if n in lowered), None)


def _choose_title(kinds: dict[str, str]) -> str | None:
    """A column named as a title (its values may repeat: product variants), else the first
    free-text column: a title, never an attribute or the kind."""
    texts = [c for c, k in kinds.items() if k == "text"]
    named = _pick([c for c, k in kinds.items() if k != "numeric"], TITLE_COLUMNS)
    return _pick(texts, TITLE_COLUMNS) or named or (texts[0] if texts else None)


def key_columns(
    columns: list[str], override: SchemaOverride | None = None
) -> tuple[str | None, str | None]:
    """The id and file columns (what matches rows to images); ValueError when a schema file
    names a column that the metadata lacks."""
    override = override or SchemaOverride()
    _check_override_columns(override, columns)
    return override.id or _pick(columns, ID_COLUMNS), override.file or _pick(columns, FILE_COLUMNS)


def infer_schema(
    columns: list[str], rows: list[dict[str, str]], override: SchemaOverride | None = None
) -> CatalogueSchema:
    """The schema of metadata `rows` (dicts over `columns`), with a schema file applied; the
    keys of k=v list columns become columns of the rows (columns.expand_key_values)."""
    id_column, file_column = key_columns(columns, override)
    columns = shapes.expand_key_values(columns, rows)
    override = override or SchemaOverride()
    caption_column = override.caption or _pick(columns, CAPTION_COLUMNS)
    reserved = {id_column, file_column, caption_column, *override.ignore}
    kinds = {
        c: shapes.column_kind(c, [r[c] for r in rows if r.get(c)], len(rows))
        for c in columns
        if c not in reserved
    }
    for c in shapes.codes_of_named_columns(kinds, rows):
        kinds[c] = "other"
    title = override.title or _choose_title(kinds)
    free = [c for c, k in kinds.items() if k in ("text", "other") and c != title]  # HTML too
    description = _pick(free, DESCRIPTION_COLUMNS)
    chosen = (
        list(override.attributes)
        if override.attributes is not None
        else [c for c, k in kinds.items() if k in ("categorical", "numeric") and c != title]
    )
    attributes = {name: _attribute(name, kinds.get(name), rows) for name in chosen}
    _infer_nesting(attributes, rows)
    for name, spec in (override.attributes or {}).items():
        _apply(attributes[name], spec, rows, name)
    if override.attributes is None:
        kind = override.kind or _infer_kind(CatalogueSchema(attributes=attributes))
        roles.one_column_per_role(attributes, rows, kind)
        chosen = list(attributes)
    ignored = [c for c in columns if c not in reserved | set(chosen) | {title, description}]
    schema = CatalogueSchema(
        name=override.name or "",
        id_column=id_column,
        file_column=file_column,
        title_column=title,
        caption_column=caption_column,
        description_column=description,
        caption_template=override.caption_template,
        attributes=attributes,
        ignored=sorted(set(ignored) | set(override.ignore)),
    )
    schema.kind = override.kind or _infer_kind(schema)
    label_opaque_columns(schema)
    return schema


def _check_override_columns(override: SchemaOverride, columns: list[str]) -> None:
    named = {"id": override.id, "file": override.file, "title": override.title}
    named.update({"caption": override.caption, "kind": override.kind})
    named.update({f"attributes.{a}": a for a in override.attributes or {}})
    others = {column for key, column in named.items() if key != "kind"}  # kind may name one
    for key, column in named.items():
        if column and column not in columns and not (key == "kind" and column in others):
            raise ValueError(
                f"{key} names {column!r}, which is not a column of the metadata "
                f"(columns: {', '.join(columns)})"
            )


def _attribute(name: str, kind: str | None, rows: list[dict[str, str]]) -> AttributeSpec:
    cells = [r[name] for r in rows if r.get(name)]
    if kind == "numeric":
        numbers = [float(v) if shapes.is_number(v) else shapes.parse_price(v) for v in cells]
        numbers = [n for n in numbers if n is not None]
        role = "price" if shapes.numeric_kind(name, cells, len(rows)) == "price" else None
        return AttributeSpec(
            label=column_label(name),
            kind="numeric",
            role=role,
            range=(min(numbers), max(numbers)) if numbers else None,
        )
    multi = shapes.is_multi_valued(cells)
    counts = shapes.split_counts(Counter(cells)) if multi else Counter(cells)
    ordered = sorted(counts, key=lambda v: (-counts[v], v))
    return AttributeSpec(
        label=column_label(name),
        values=ordered,
        counts={v: counts[v] for v in ordered},
        role=lexicon.infer_role(name, ordered),
        multi_valued=multi,
    )


def _apply(spec: AttributeSpec, change: AttributeOverride, rows, name: str) -> None:
    if change.kind == "numeric" and spec.kind != "numeric":
        spec.__dict__.update(_attribute(name, "numeric", rows).__dict__)
    for key in ("label", "role", "parent"):
        if getattr(change, key) is not None:
            setattr(spec, key, getattr(change, key))
    unknown = [v for v in change.synonyms if v not in spec.values]
    if unknown:
        raise ValueError(
            f"attributes.{name}.synonyms names {unknown[0]!r}, which is not a "
            f"value of {name} (values: {', '.join(spec.values[:12])}...)"
        )
    spec.synonyms = {**spec.synonyms, **change.synonyms}


def _infer_nesting(attributes: dict[str, AttributeSpec], rows: list[dict[str, str]]) -> None:
    """Set `parent` where one attribute's value determines another's (articleType ->
    subCategory -> masterCategory): the nearest such broader attribute of the same role."""
    names = [n for n, a in attributes.items() if a.kind == "categorical" and len(a.values) > 1]
    for narrow in names:
        broader = [
            b
            for b in names
            if b != narrow
            and len(attributes[b].values) < len(attributes[narrow].values)
            and attributes[b].role == attributes[narrow].role
            and shapes.determines(rows, narrow, b)
        ]
        if broader and len(rows) >= shapes.MIN_NESTING_ROWS:
            attributes[narrow].parent = max(broader, key=lambda b: len(attributes[b].values))


def _infer_kind(schema: CatalogueSchema) -> str | None:
    """The most specific garment attribute (articleType over subCategory); never a column of
    title-like free text (TITLE_WORDS words a value or more)."""
    garments = [n for n in schema.by_role("garment") if not _title_like(schema.attributes[n])]
    if not garments:
        return None
    return max(garments, key=lambda n: (schema.depth(n), len(schema.attributes[n].values)))


def _title_like(spec: AttributeSpec) -> bool:
    words = [len(v.split()) for v in spec.values]
    return bool(words) and sum(words) / len(words) >= TITLE_WORDS


def schema_from_items(items) -> CatalogueSchema:
    """A schema for items whose catalogue gave none (an index built before schemas)."""
    rows = [item.attributes for item in items]
    columns = list(dict.fromkeys(k for row in rows for k in row))
    return infer_schema(columns, rows)
