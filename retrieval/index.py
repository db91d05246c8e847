"""A FAISS index of a catalogue, saved as a folder with ids, metadata and a manifest."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np
from pydantic import BaseModel, Field

from retrieval.catalogue import Catalogue, Item
from retrieval.embedding_cache import EmbeddingCache
from retrieval.encoders import Encoder

INDEX_FILE, ITEMS_FILE, VECTORS_FILE, MANIFEST_FILE = (
    "index.faiss",
    "items.jsonl",
    "vectors.npy",
    "manifest.json",
)


class IndexMismatchError(ValueError):
    """The index was built with another model than the one in use."""


class SkippedItem(BaseModel):
    id: str
    source: str
    reason: str


class Manifest(BaseModel):
    model_id: str
    model_fingerprint: str
    dim: int
    factory: str
    metric: str = "inner_product"
    catalogue: str
    catalogue_fingerprint: str
    count: int
    skipped: list[SkippedItem] = Field(default_factory=list)
    build_seconds: float = 0.0
    encoded: int = 0  # images encoded by this build (the rest came from the cache)
    built_at: str = ""


@dataclass(frozen=True)
class Hit:
    item: Item
    score: float
    position: int  # row in the index


def _gpu_available() -> bool:
    return hasattr(faiss, "StandardGpuResources") and faiss.get_num_gpus() > 0


def new_faiss_index(dim: int, factory: str, train_vectors: np.ndarray | None = None) -> faiss.Index:
    """An inner-product index from a factory string, trained on a sample where it needs it."""
    try:
        index = faiss.index_factory(dim, factory, faiss.METRIC_INNER_PRODUCT)
    except RuntimeError as err:
        raise ValueError(
            f"bad FAISS factory string {factory!r}: {str(err).splitlines()[0]}"
        ) from None
    if not index.is_trained:
        if train_vectors is None or len(train_vectors) == 0:
            raise ValueError(f"factory {factory!r} needs training vectors")
        index.train(np.ascontiguousarray(train_vectors, dtype=np.float32))
    return index


class SearchIndex:
    """Items, their vectors and a FAISS index over them."""

    def __init__(
        self, index: faiss.Index, items: list[Item], vectors: np.ndarray, manifest: Manifest
    ):
        if index.ntotal != len(items) or len(vectors) != len(items):
            raise ValueError(
                f"index has {index.ntotal} vectors, {len(vectors)} stored vectors and "
                f"{len(items)} items: rebuild it"
            )
        self.index, self.items, self.vectors, self.manifest = index, items, vectors, manifest
        self.positions = {item.id: i for i, item in enumerate(items)}
        if _gpu_available() and not manifest.factory.startswith("HNSW"):
            self.index = faiss.index_cpu_to_gpu(faiss.StandardGpuResources(), 0, index)
        self._on_gpu = self.index is not index

    def __len__(self) -> int:
        return len(self.items)

    def vector(self, item_id: str) -> np.ndarray:
        """(D,) stored vector of an item."""
        if item_id not in self.positions:
            raise KeyError(f"no item {item_id!r} in this index")
        return np.asarray(self.vectors[self.positions[item_id]], dtype=np.float32)

    def search(
        self,
        queries: np.ndarray,
        k: int = 10,
        exclude: Iterable[str] = (),
        allowed: np.ndarray | None = None,
    ) -> list[list[Hit]]:
        """Top-k hits per query row, skipping `exclude` ids and rows where `allowed` is False."""
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        if queries.shape[1] != self.manifest.dim:
            raise ValueError(
                f"query has dimension {queries.shape[1]}, index has {self.manifest.dim}"
            )
        mask = np.ones(len(self.items), bool) if allowed is None else allowed.copy()
        for item_id in exclude:
            if item_id in self.positions:
                mask[self.positions[item_id]] = False
        k = min(k, int(mask.sum()))
        if k <= 0:
            return [[] for _ in queries]
        if mask.all():
            scores, rows = self.index.search(queries, k)
        else:
            scores, rows = self._search_masked(queries, k, mask)
        return [
            [Hit(self.items[r], float(s), int(r)) for s, r in zip(srow, rrow) if r >= 0]
            for srow, rrow in zip(scores, rows)
        ]

    def _search_masked(self, queries: np.ndarray, k: int, mask: np.ndarray):
        if not self._on_gpu:
            selector = faiss.IDSelectorBatch(np.flatnonzero(mask).astype(np.int64))
            params = faiss.SearchParameters(sel=selector)
            return self.index.search(queries, k, params=params)
        fetch = k
        while True:  # GPU indexes take no selector: over-fetch, then filter
            fetch = min(len(self.items), fetch * 4 + len(self.items) - int(mask.sum()))
            scores, rows = self.index.search(queries, fetch)
            keep = [[j for j, r in enumerate(row) if r >= 0 and mask[r]][:k] for row in rows]
            if all(len(row) == k for row in keep) or fetch == len(self.items):
                return (
                    np.array([s[row] for s, row in zip(scores, keep)]),
                    np.array([r[row] for r, row in zip(rows, keep)]),
                )

    def attribute_mask(self, attributes: dict[str, str]) -> np.ndarray:
        """(N,) bool: items whose attributes equal all the given ones."""
        return np.array(
            [all(item.attributes.get(k) == v for k, v in attributes.items()) for item in self.items]
        )

    def save(self, folder: str | Path) -> Path:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        cpu_index = faiss.index_gpu_to_cpu(self.index) if self._on_gpu else self.index
        faiss.write_index(cpu_index, str(folder / INDEX_FILE))
        np.save(folder / VECTORS_FILE, np.asarray(self.vectors, dtype=np.float32))
        with open(folder / ITEMS_FILE, "w", encoding="utf-8") as f:
            for item in self.items:
                f.write(json.dumps(item.to_json()) + "\n")
        (folder / MANIFEST_FILE).write_text(self.manifest.model_dump_json(indent=2) + "\n")
        return folder

    @classmethod
    def load(cls, folder: str | Path, encoder: Encoder | None = None) -> SearchIndex:
        """Load a saved index; refuse it if it was built with another model than `encoder`."""
        folder = Path(folder)
        if not (folder / MANIFEST_FILE).exists():
            raise FileNotFoundError(
                f"no index at {folder}: build one with `circhat index build --out {folder}`"
            )
        manifest = Manifest.model_validate_json((folder / MANIFEST_FILE).read_text())
        if encoder is not None:
            check_compatible(manifest, encoder, folder)
        items = [
            Item(**json.loads(line))
            for line in (folder / ITEMS_FILE).read_text(encoding="utf-8").splitlines()
            if line
        ]
        vectors = np.load(folder / VECTORS_FILE, mmap_mode="r")
        index = faiss.read_index(str(folder / INDEX_FILE))
        return cls(index, items, vectors, manifest)


def check_compatible(manifest: Manifest, encoder: Encoder, folder: Path | str = "index") -> None:
    if manifest.model_id != encoder.model_id or manifest.dim != encoder.dim:
        raise IndexMismatchError(
            f"index {folder} was built with {manifest.model_id} ({manifest.dim}-d) but the model in "
            f"use is {encoder.model_id} ({encoder.dim}-d): rebuild it with "
            f"`circhat index build --model {encoder.model_id} --out {folder}` or use that model"
        )
    if manifest.model_fingerprint != encoder.fingerprint:
        raise IndexMismatchError(
            f"index {folder} was built with other weights of {manifest.model_id}: rebuild it with "
            f"`circhat index build --model {encoder.model_id} --out {folder}`"
        )


@dataclass
class EncodedCatalogue:
    items: list[Item]
    vectors: np.ndarray  # (N, D) float32
    skipped: list[SkippedItem]
    encoded: int  # images that reached the encoder (the rest came from the cache)


def encode_catalogue(
    catalogue: Catalogue,
    encoder: Encoder,
    cache: EmbeddingCache | None = None,
    batch_size: int = 256,
    progress: bool = True,
) -> EncodedCatalogue:
    """Vectors of every readable catalogue image, reusing cached embeddings."""
    from tqdm import tqdm

    items, parts, skipped, encoded = [], [], [], 0
    bar = tqdm(
        total=len(catalogue), desc=f"encode {catalogue.name}", unit="img", disable=not progress
    )
    for batch in catalogue.batches(batch_size):
        readable = [b for b in batch if b.image is not None]
        skipped += [
            SkippedItem(id=b.item.id, source=b.item.source, reason=b.error)
            for b in batch
            if b.image is None
        ]
        if readable:
            vectors, fresh = _embed(readable, encoder, cache)
            encoded += fresh
            items += [b.item for b in readable]
            parts.append(vectors)
        bar.update(len(batch))
        bar.set_postfix(encoded=encoded, skipped=len(skipped))
    bar.close()
    if not items:
        raise ValueError(f"catalogue {catalogue.name} has no readable images")
    return EncodedCatalogue(items, np.concatenate(parts), skipped, encoded)


def build_index(
    catalogue: Catalogue,
    encoder: Encoder,
    factory: str = "Flat",
    cache: EmbeddingCache | None = None,
    batch_size: int = 256,
    train_sample: int = 100_000,
    progress: bool = True,
) -> SearchIndex:
    """Encode a catalogue (reusing cached embeddings) and index it."""
    started = time.time()
    encoded = encode_catalogue(catalogue, encoder, cache, batch_size, progress)
    vectors = encoded.vectors
    rng = np.random.default_rng(0)
    sample = vectors[rng.choice(len(vectors), min(train_sample, len(vectors)), replace=False)]
    index = new_faiss_index(encoder.dim, factory, sample)
    for start in range(0, len(vectors), 100_000):
        index.add(vectors[start : start + 100_000])
    manifest = Manifest(
        model_id=encoder.model_id,
        model_fingerprint=encoder.fingerprint,
        dim=encoder.dim,
        factory=factory,
        catalogue=catalogue.name,
        catalogue_fingerprint=catalogue.fingerprint(),
        count=len(encoded.items),
        skipped=encoded.skipped,
        build_seconds=round(time.time() - started, 2),
        encoded=encoded.encoded,
        built_at=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    )
    return SearchIndex(index, encoded.items, vectors, manifest)


def _embed(batch, encoder: Encoder, cache: EmbeddingCache | None) -> tuple[np.ndarray, int]:
    """Vectors of a batch of loaded images; only cache misses reach the encoder."""
    hashes = [b.content_hash for b in batch]
    found = (
        cache.get_many(encoder.fingerprint, hashes) if cache is not None else [None] * len(batch)
    )
    missing = [i for i, v in enumerate(found) if v is None]
    if missing:
        fresh = encoder.encode_images([batch[i].image for i in missing])
        for i, vector in zip(missing, fresh):
            found[i] = vector
        if cache is not None:
            cache.put_many(encoder.fingerprint, [hashes[i] for i in missing], fresh)
    return np.stack(found).astype(np.float32), len(missing)
