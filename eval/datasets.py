"""Loaders for the Fashion IQ, CIRR and Shoes composed-image-retrieval files, as typed triplets."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FASHION_IQ_CATEGORIES = ("dress", "shirt", "toptee")
SHOES_SPLIT_FILES = {"train": "train_im_names.txt", "eval": "eval_im_names.txt"}

PathLike = str | os.PathLike


@dataclass(frozen=True)
class Triplet:
    """One reference image, its modification text(s) and the target image it should retrieve."""

    reference: str
    target: str | None
    captions: tuple[str, ...]
    category: str = ""
    subset: tuple[str, ...] = ()
    pair_id: str = ""


# ---- shared file reading and field checks ----


def _require_file(path: Path, hint: str) -> None:
    """Raise a one-line FileNotFoundError naming `path` unless it is a file."""
    if not path.is_file():
        raise FileNotFoundError(f"{path}: file not found; {hint}")


def _read_json(path: Path, hint: str) -> Any:
    """Parse a JSON file, turning any read or syntax problem into a one-line error naming it."""
    _require_file(path, hint)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"{path}: not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno}); "
            "re-download or repair the file"
        ) from None
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not UTF-8 text; re-download the file") from None


def _json_list(path: Path, hint: str) -> list[Any]:
    """Read a JSON file whose top level must be a list."""
    data = _read_json(path, hint)
    if not isinstance(data, list):
        kind = type(data).__name__
        raise ValueError(f"{path}: expected a JSON list at the top level, found {kind}; {hint}")
    return data


def _entries(path: Path, hint: str) -> Iterable[tuple[str, dict[str, Any]]]:
    """Yield (location, entry) for each object of a JSON list, rejecting non-objects."""
    for index, entry in enumerate(_json_list(path, hint)):
        where = f"{path}: entry {index}"
        if not isinstance(entry, dict):
            kind = type(entry).__name__
            raise ValueError(f"{where} is a {kind}, not an object; {hint}")
        yield where, entry


def _text(entry: dict[str, Any], key: str, where: str, why: str = "") -> str:
    """Return the string field `key`, or raise a one-line ValueError saying what is wrong."""
    if key not in entry:
        raise ValueError(f"{where} has no '{key}' field{why}")
    value = entry[key]
    if not isinstance(value, str):
        kind = type(value).__name__
        raise ValueError(f"{where} has a {kind} '{key}' field; expected a string")
    return value


def _optional_target(entry: dict[str, Any], key: str, where: str, split: str) -> str | None:
    """Return the target field, which only test-split entries ('test', CIRR's 'test1') may omit."""
    if split.startswith("test") and key not in entry:
        return None
    return _text(
        entry, key, where, f"; every {split}-split entry needs one (only test may omit it)"
    )


def _clean(captions: Iterable[str]) -> tuple[str, ...]:
    """Strip whitespace from captions and drop the ones left empty."""
    return tuple(text for text in (caption.strip() for caption in captions) if text)


def _string_list(values: Any, where: str) -> list[str]:
    """Check that `values` is a list of strings and return it."""
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise ValueError(f"{where} must be a JSON list of strings")
    return values


# ---- Fashion IQ ----


def _fashion_iq_hint(root: Path) -> str:
    """What to do when a Fashion IQ file is missing or malformed."""
    return (
        f"expected the Fashion IQ layout {root}/captions/cap.<category>.<split>.json and "
        f"{root}/image_splits/split.<category>.<split>.json"
    )


def _fashion_iq_triplet(entry: dict[str, Any], where: str, category: str, split: str) -> Triplet:
    """Build one Fashion IQ triplet from a caption-file entry."""
    reference = _text(entry, "candidate", where)
    target = _optional_target(entry, "target", where, split)
    if "captions" not in entry:
        raise ValueError(f"{where} has no 'captions' field")
    captions = _string_list(entry["captions"], f"{where} 'captions' field")
    return Triplet(reference, target, _clean(captions), category=category)


def load_fashion_iq(
    root: PathLike, split: str = "val", categories: Iterable[str] = FASHION_IQ_CATEGORIES
) -> list[Triplet]:
    """Read root/captions/cap.{category}.{split}.json for each category, in the order given."""
    root = Path(root)
    if isinstance(categories, str):
        categories = (categories,)
    triplets: list[Triplet] = []
    for category in categories:
        path = root / "captions" / f"cap.{category}.{split}.json"
        for where, entry in _entries(path, _fashion_iq_hint(root)):
            triplets.append(_fashion_iq_triplet(entry, where, category, split))
    return triplets


def fashion_iq_gallery(root: PathLike, category: str, split: str = "val") -> list[str]:
    """Read the image names of one Fashion IQ category split (root/image_splits/...)."""
    root = Path(root)
    path = root / "image_splits" / f"split.{category}.{split}.json"
    return _string_list(_json_list(path, _fashion_iq_hint(root)), str(path))


# ---- CIRR ----


def _cirr_hint(root: Path) -> str:
    """What to do when a CIRR file is missing or malformed."""
    return (
        f"expected the CIRR layout {root}/captions/cap.rc2.<split>.json and "
        f"{root}/image_splits/split.rc2.<split>.json"
    )


def _cirr_subset(entry: dict[str, Any], where: str) -> tuple[str, ...]:
    """Return the img_set members of a CIRR entry, or () when it has no img_set."""
    img_set = entry.get("img_set")
    if img_set is None:
        return ()
    if not isinstance(img_set, dict):
        raise ValueError(f"{where} has an 'img_set' that is not an object with 'members'")
    return tuple(_string_list(img_set.get("members"), f"{where} 'img_set.members'"))


def _cirr_triplet(entry: dict[str, Any], where: str, split: str) -> Triplet:
    """Build one CIRR triplet from a caption-file entry."""
    if "pairid" not in entry:
        raise ValueError(f"{where} has no 'pairid' field")
    reference = _text(entry, "reference", where)
    target = _optional_target(entry, "target_hard", where, split)
    captions = _clean([_text(entry, "caption", where)])
    subset = _cirr_subset(entry, where)
    return Triplet(reference, target, captions, subset=subset, pair_id=str(entry["pairid"]))


def load_cirr(root: PathLike, split: str = "val") -> list[Triplet]:
    """Read CIRR's root/captions/cap.rc2.{split}.json (target None where test omits it)."""
    root = Path(root)
    path = root / "captions" / f"cap.rc2.{split}.json"
    return [_cirr_triplet(entry, where, split) for where, entry in _entries(path, _cirr_hint(root))]


def cirr_image_paths(root: PathLike, split: str = "val") -> dict[str, str]:
    """Read CIRR's image name -> relative path map (root/image_splits/split.rc2.{split}.json)."""
    root = Path(root)
    path = root / "image_splits" / f"split.rc2.{split}.json"
    data = _read_json(path, _cirr_hint(root))
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise ValueError(f"{path}: expected a JSON object of image name -> relative path strings")
    return data


# ---- Shoes ----


def _shoes_hint(root: Path) -> str:
    """What to do when a Shoes file is missing or malformed."""
    return (
        f"expected {root}/relative_captions_shoes.json and "
        f"{root}/train_im_names.txt / eval_im_names.txt (the ARTEMIS Shoes layout)"
    )


def _shoes_triplet(entry: dict[str, Any], where: str) -> Triplet:
    """Build one Shoes triplet from a relative-caption entry."""
    reference = _text(entry, "ReferenceImageName", where)
    target = _text(entry, "ImageName", where)
    captions = _clean([_text(entry, "RelativeCaption", where)])
    return Triplet(reference, target, captions)


def shoes_split(root: PathLike, split: str) -> list[str]:
    """Read the image names of a Shoes split ('train' or 'eval'), one per line."""
    root = Path(root)
    if split not in SHOES_SPLIT_FILES:
        raise ValueError(f"unknown Shoes split {split!r}; use 'train' or 'eval'")
    path = root / SHOES_SPLIT_FILES[split]
    _require_file(path, _shoes_hint(root))
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not UTF-8 text; re-download the file") from None
    return [line.strip() for line in lines if line.strip()]


def load_shoes(root: PathLike, split: str | None = None) -> list[Triplet]:
    """Read root/relative_captions_shoes.json, keeping only targets in `split` when given."""
    root = Path(root)
    path = root / "relative_captions_shoes.json"
    triplets = [_shoes_triplet(entry, where) for where, entry in _entries(path, _shoes_hint(root))]
    if split is None:
        return triplets
    names = set(shoes_split(root, split))
    return [triplet for triplet in triplets if triplet.target in names]
