"""FAISS helpers: factory strings, training on a sample, query-time settings, mmap and GPU."""

from __future__ import annotations

import re
from pathlib import Path

import faiss
import numpy as np

# search settings a user may pass (`circhat search --nprobe/--ef-search/--rerank`)
SETTINGS = ("nprobe", "efSearch", "rerank")
LOSSLESS = (faiss.IndexFlat, faiss.IndexIVFFlat, faiss.IndexHNSWFlat)


_GPU_RESOURCES: list = []  # one StandardGpuResources, alive as long as the process


def gpu_available() -> bool:
    return hasattr(faiss, "StandardGpuResources") and faiss.get_num_gpus() > 0


# FAISS's default of 40 candidates per insertion builds an HNSW graph that misses neighbours
# among near-duplicates (a garment in many colours): on the 100k variants gallery, recall@10
# at efSearch 128 is 0.88 with 40 and 0.98 with 200, for 3x the build time.
HNSW_EF_CONSTRUCTION = 200


def new_faiss_index(dim: int, factory: str, train_vectors: np.ndarray | None = None) -> faiss.Index:
    """An inner-product index from a factory string, trained on a sample where it needs it."""
    try:
        index = faiss.index_factory(dim, factory, faiss.METRIC_INNER_PRODUCT)
    except RuntimeError as err:
        raise ValueError(
            f"bad FAISS factory string {factory!r}: {str(err).splitlines()[0]}"
        ) from None
    _skip_polysemous_training(index)
    if isinstance(_unwrap(index), faiss.IndexHNSW):
        _unwrap(index).hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    if not index.is_trained:
        if train_vectors is None or len(train_vectors) == 0:
            raise ValueError(f"factory {factory!r} needs training vectors")
        try:
            index.train(np.ascontiguousarray(train_vectors, dtype=np.float32))
        except RuntimeError as err:  # e.g. fewer vectors than IVF lists
            reason = str(err).strip().splitlines()[-1].rsplit("failed: ", 1)[-1]
            raise ValueError(
                f"FAISS cannot train {factory!r} on {len(train_vectors)} vectors ({reason}): "
                "give one that trains on fewer (fewer IVF lists, PQ bits) or --factory Flat"
            ) from None
    return index


def _skip_polysemous_training(index: faiss.Index) -> None:
    """PQ factory strings train polysemous codes by default: slow (minutes at M=48) and of
    no use here (no Hamming filtering); distances and rankings are the same without it."""
    for part in (faiss.try_extract_index_ivf(index), _unwrap(index)):
        if hasattr(part, "do_polysemous_training"):
            part.do_polysemous_training = False


def index_vectors(
    vectors: np.ndarray,
    factory: str,
    train_sample: int = 100_000,
    chunk: int = 65_536,
    progress: bool = False,
) -> faiss.Index:
    """Train `factory` on at most `train_sample` rows of (N, D) `vectors`, then add all rows
    chunk by chunk: `vectors` may be a memory-mapped file larger than RAM."""
    from retrieval.progress import bar as progress_bar

    n, dim = vectors.shape
    rng = np.random.default_rng(0)
    rows = np.sort(rng.choice(n, min(train_sample, n), replace=False))
    index = new_faiss_index(dim, factory, None if _trained(dim, factory) else vectors[rows])
    for start in progress_bar(
        range(0, n, chunk), desc=f"add {factory}", unit="chunk", disable=not progress
    ):
        index.add(np.ascontiguousarray(vectors[start : start + chunk], dtype=np.float32))
    return index


def _trained(dim: int, factory: str) -> bool:
    """True when `factory` needs no training (checked on an empty index)."""
    try:
        return faiss.index_factory(dim, factory, faiss.METRIC_INNER_PRODUCT).is_trained
    except RuntimeError:
        return False  # new_faiss_index explains the bad string


def _unwrap(index: faiss.Index) -> faiss.Index:
    index = faiss.downcast_index(index)
    while isinstance(index, faiss.IndexPreTransform):
        index = faiss.downcast_index(index.index)
    return index


def is_lossy(index: faiss.Index) -> bool:
    """True when the index scores compressed codes (PQ, SQ, a transform), not the vectors."""
    index = faiss.downcast_index(index)
    return not isinstance(index, LOSSLESS)


def applicable_settings(index: faiss.Index) -> set[str]:
    """Which of SETTINGS mean something for this (CPU) index."""
    inner = _unwrap(index)
    names = {"rerank"}
    if faiss.try_extract_index_ivf(index) is not None:
        names.add("nprobe")
    if isinstance(inner, faiss.IndexHNSW):
        names.add("efSearch")
    return names


def default_settings(index: faiss.Index) -> dict[str, int]:
    """Query-time defaults: nprobe = nlist / 64 (at least 16), efSearch 128, and for
    compressed codes a rerank of the best 400 candidates with the stored float vectors
    (recall@10 0.98 of exact search at 1M items with IVF4096,PQ48: see README, Scale)."""
    settings: dict[str, int] = {}
    ivf = faiss.try_extract_index_ivf(index)
    if ivf is not None:
        settings["nprobe"] = int(min(ivf.nlist, max(16, ivf.nlist // 64)))
    if isinstance(_unwrap(index), faiss.IndexHNSW):
        settings["efSearch"] = 128
    if is_lossy(index):
        settings["rerank"] = 400
    return settings


def check_settings(index: faiss.Index, factory: str, settings: dict[str, int | None]) -> None:
    """Refuse a setting the index does not have (e.g. nprobe on a Flat index)."""
    allowed = applicable_settings(index)
    flag = {"nprobe": "--nprobe", "efSearch": "--ef-search", "rerank": "--rerank"}
    for name, value in settings.items():
        if value is None:
            continue
        if name not in SETTINGS:
            raise ValueError(f"unknown search setting {name!r}: use one of {', '.join(SETTINGS)}")
        if name not in allowed:
            kind = "IVF" if name == "nprobe" else "HNSW"
            raise ValueError(
                f"{flag[name]} applies to {kind} indexes; this index is {factory!r}: "
                f"drop the flag or rebuild with another --factory"
            )
        if int(value) < (0 if name == "rerank" else 1):
            raise ValueError(f"{flag[name]} must be a positive number, not {value}")


def search_parameters(index: faiss.Index, settings: dict, sel=None, keep: list | None = None):
    """Per-call SearchParameters carrying nprobe / efSearch and an id selector (CPU indexes)."""
    keep = [] if keep is None else keep
    index = faiss.downcast_index(index)
    if isinstance(index, faiss.IndexPreTransform):
        inner = search_parameters(index.index, settings, sel, keep)
        keep.append(inner)
        params = faiss.SearchParametersPreTransform()
        params.index_params = inner
        return params
    if isinstance(index, faiss.IndexIVF):
        params = faiss.SearchParametersIVF()
        params.nprobe = int(settings.get("nprobe") or index.nprobe)
    elif isinstance(index, faiss.IndexHNSW):
        params = faiss.SearchParametersHNSW()
        params.efSearch = int(settings.get("efSearch") or index.hnsw.efSearch)
    elif sel is None:
        return None
    else:
        params = faiss.SearchParameters()
    if sel is not None:
        params.sel = sel
    return params


def bitmap_selector(mask: np.ndarray, keep: list):
    """An IDSelectorBitmap over (N,) bool `mask`; `keep` holds its buffer during the search."""
    bits = np.packbits(mask, bitorder="little")
    keep.append(bits)
    return faiss.IDSelectorBitmap(len(mask), faiss.swig_ptr(bits))


def read_index(path: str | Path, mmap: bool = False) -> tuple[faiss.Index, str]:
    """Read an index file, memory-mapped where this FAISS build supports it for its type.

    Returns the index and a note ("" when it went as asked).
    """
    path = str(path)
    if not mmap:
        return faiss.read_index(path), ""
    reasons = []
    for name in ("IO_FLAG_MMAP_IFC", "IO_FLAG_MMAP"):  # IFC maps flat codes too (FAISS >= 1.11)
        if hasattr(faiss, name):
            try:
                return faiss.read_index(path, getattr(faiss, name) | faiss.IO_FLAG_READ_ONLY), ""
            except RuntimeError as err:
                reasons.append(str(err).strip().splitlines()[-1])
    index = faiss.read_index(path)
    reason = reasons[-1] if reasons else "no mmap flag in this FAISS build"
    return index, f"{path} could not be memory-mapped ({reason}); it was loaded into RAM instead"


def to_gpu(index: faiss.Index, factory: str) -> tuple[faiss.Index, str]:
    """The index on GPU 0 (float16 lookup tables for IVF-PQ), or unchanged with a note."""
    if re.search(r"HNSW", factory):
        return index, "HNSW indexes stay on the CPU (FAISS has no GPU HNSW)"
    options = faiss.GpuClonerOptions()
    options.useFloat16 = isinstance(faiss.try_extract_index_ivf(index), faiss.IndexIVFPQ)
    if not _GPU_RESOURCES:
        _GPU_RESOURCES.append(faiss.StandardGpuResources())
    try:
        return faiss.index_cpu_to_gpu(_GPU_RESOURCES[0], 0, index, options), ""
    except RuntimeError as err:
        return index, f"{factory} stays on the CPU: {str(err).strip().splitlines()[-1]}"


def set_gpu_nprobe(index: faiss.Index, nprobe: int) -> None:
    faiss.GpuParameterSpace().set_index_parameter(index, "nprobe", int(nprobe))
