"""InstanceSearch: "this style in other colours" from a gallery's instance index."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import asdict, replace
from pathlib import Path

import faiss
import numpy as np

from retrieval.index.search import SearchIndex
from retrieval.instance.diffusion import KnnGraph
from retrieval.instance.query import Expander, ExpansionSettings

INSTANCE_DIR = "instance"  # beside the main index's files
SETTINGS_FILE = "instance.json"
DBA_FILE = "dba-vectors.npy"  # the database-side augmented vectors


class InstanceSearch:
    """Answers "the same item in other colours" with a second vector per item.

    Args:
        index: the instance index (its own FAISS index of instance descriptors, one row per
            item of the main index, same ids).
        graph: the k-NN graph of its vectors (diffusion), or None.
        settings: what runs after the nearest-neighbour search (see ExpansionSettings).
        augmented: (N, D) database-side augmented vectors, searched instead of the index's
            own when `settings.dba` (queries stay the items' own descriptors).
        whitening: how the index's vectors were whitened ("pca"), or None.
    """

    def __init__(
        self,
        index: SearchIndex,
        graph: KnnGraph | None = None,
        settings: ExpansionSettings | None = None,
        descriptor: str = "",
        augmented: np.ndarray | None = None,
        whitening: str | None = None,
    ):
        self.index, self.graph, self.whitening = index, graph, whitening
        self.settings = settings or ExpansionSettings()
        self.notes: list[str] = []  # what runs otherwise than asked, and why
        if self.settings.dba and augmented is None:
            self.settings = replace(self.settings, dba=False)
            self.notes.append("no DBA vectors of these settings: searching without DBA")
        if self.settings.method == "diffusion" and graph is None:
            self.settings = replace(self.settings, method="alpha_qe")
            self.notes.append("no k-NN graph of the searched vectors: alpha-QE, not diffusion")
        self.main_folder: Path | None = None  # the main index it stands beside (set on load)
        self.encoder = None  # its descriptor encoder (set on load)
        self.descriptor = descriptor or index.manifest.model_id
        if self.settings.dba:
            flat, stored = flat_index_of(augmented)
            self.expander = Expander(flat, stored, graph)
        else:
            self.expander = Expander(index.index, index.vectors, graph)

    @property
    def item_ids(self) -> list[str]:
        return [item.id for item in self.index.items]

    def other_colours(
        self, item_id: str, k: int = 10, exclude: Iterable[str] = ()
    ) -> list[tuple[str, float]]:
        """The k items that look most like `item_id` apart from colour, best first.

        Args:
            item_id: a gallery item (never in its own answer).
            k: results wanted.
            exclude: ids to leave out (items already shown).
        Returns:
            [(item_id, score)]: cosine similarity of the instance descriptors (to the expanded
            query with QE), or the diffused score scaled to 1 for the best (diffusion).
        """
        if item_id not in self.index.positions:
            raise KeyError(f"no item {item_id!r} in this gallery")
        if k < 1:
            raise ValueError(f"k must be at least 1, not {k}")
        row = self.index.positions[item_id]
        skip = {self.index.positions[i] for i in exclude if i in self.index.positions}
        depth = min(len(self.index) - 1, k + len(skip))
        if depth <= 0:
            return []
        query = np.asarray(self.index.vectors[row], np.float32)
        rows, scores = self.expander.rank(query, depth, self.settings, skip=row)
        keep = [(int(r), float(s)) for r, s in zip(rows, scores) if int(r) not in skip][:k]
        return [(self.index.items[r].id, s) for r, s in keep]

    def more_like(self, item_ids: list[str], k: int = 10, alpha: float = 3.0):
        """Items like all of `item_ids` at once (their alpha-QE), without them."""
        from retrieval.instance.expansion import alpha_query_expansion

        if not item_ids:
            raise ValueError("more_like needs at least one item")
        vectors = np.stack([self.index.vector(i) for i in item_ids])
        query = alpha_query_expansion(vectors[0], vectors[1:], alpha)
        hits = self.index.search(query, k, exclude=item_ids)[0]
        return [(hit.item.id, hit.score) for hit in hits]

    def describe(self) -> dict:
        """What answers: the descriptor, gallery size and expansion settings."""
        return {
            "descriptor": self.descriptor,
            "whitening": self.whitening,
            "items": len(self.index),
            "graph": None if self.graph is None else {"k": self.graph.k, "gamma": self.graph.gamma},
            **asdict(self.settings),
            "notes": self.notes,
        }

    def save_settings(self, folder: str | Path, main_fingerprint: str) -> None:
        info = {
            "graph_source": "" if self.graph is None else self.graph.source,
            "descriptor": self.descriptor,
            "whitening": self.whitening,
            "settings": asdict(self.settings),
            "main_catalogue_fingerprint": main_fingerprint,
            "saved_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        (Path(folder) / SETTINGS_FILE).write_text(json.dumps(info, indent=2) + "\n")


def flat_index_of(vectors: np.ndarray) -> tuple[faiss.IndexFlatIP, np.ndarray]:
    """(an inner-product flat index of `vectors`, a read-only view of its stored rows).

    The rows are read once into the index's own memory and the view reads them there, so a
    memory-mapped file given here is not held: its pages count against no process (a forked
    server's supervisor would otherwise keep every page it read as its own)."""
    flat = faiss.IndexFlatIP(vectors.shape[1])
    flat.add(np.ascontiguousarray(vectors, dtype=np.float32))
    stored = faiss.rev_swig_ptr(flat.get_xb(), flat.ntotal * flat.d).reshape(flat.ntotal, flat.d)
    stored.flags.writeable = False
    return flat, stored
