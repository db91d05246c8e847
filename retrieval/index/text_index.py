"""Lexical search over what the shop wrote about each item (its title, and its description
where the catalogue has one): SQLite FTS5 ranked by BM25, and reciprocal rank fusion of that
ranking with the vector ranking.

Words a shopper uses that no attribute holds ("nike", "polo", "chronograph") are found here
by the shop's own text; the vector search alone knows only what the encoder learnt.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from retrieval.catalogues.base import Item

if TYPE_CHECKING:
    from retrieval.index.search import Hit, SearchIndex

RRF_K = 60  # reciprocal rank fusion's constant (Cormack et al. 2009)
MATCH_LIMIT = 2_000  # text matches ranked per query (the best by BM25)
VECTOR_DEPTH = 100  # vector hits and text matches fused per query
_WORD = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*", re.UNICODE)


def item_text(item: Item) -> str:
    """The shop's own words about an item: its title and, where it has them, its description
    and its tags."""
    parts = (item.title, getattr(item, "description", ""), getattr(item, "tags", ""))
    return " ".join(filter(None, parts))


@dataclass(frozen=True)
class TextMatch:
    position: int  # row in the index
    bm25: float  # SQLite's bm25(): lower is better


class TextIndex:
    """An in-memory FTS5 table over the items' texts, rows aligned with the vector index.

    Built once at start (8,383 titles: about 0.1 s) and shared read-only by every session;
    a lock serialises queries on the one connection.
    """

    def __init__(self, texts: Sequence[str]):
        self._db = sqlite3.connect(":memory:", check_same_thread=False)
        self._db.execute(
            "CREATE VIRTUAL TABLE docs USING fts5(body, "
            "tokenize = 'porter unicode61 remove_diacritics 2')"
        )
        self._db.executemany(
            "INSERT INTO docs(rowid, body) VALUES (?, ?)",
            ((i, t) for i, t in enumerate(texts) if t),
        )
        self._db.execute("CREATE VIRTUAL TABLE terms USING fts5vocab(docs, 'row')")
        self._lock = threading.Lock()
        self.size = len(texts)
        self.documents = sum(1 for t in texts if t)

    @classmethod
    def from_items(cls, items: Sequence[Item]) -> TextIndex | None:
        """The index of the items' texts; None where no item has any."""
        texts = [item_text(item) for item in items]
        return cls(texts) if any(texts) else None

    def known(self, words: Sequence[str]) -> list[str]:
        """The words (in their order, once each) that occur in at least one item's text."""
        found = []
        for word in dict.fromkeys(w.lower() for w in words):
            if self._count(word):
                found.append(word)
        return found

    def _count(self, word: str) -> int:
        with self._lock:
            row = self._db.execute(
                "SELECT count(*) FROM docs WHERE docs MATCH ?", (_phrase(word),)
            ).fetchone()
        return int(row[0])

    def search(
        self, words: Sequence[str], allowed: np.ndarray | None = None, limit: int = MATCH_LIMIT
    ) -> list[TextMatch]:
        """Items whose text holds any of `words`, best BM25 first (items holding more of the
        words, and rarer ones, rank higher); only rows where `allowed` is True."""
        terms = [_phrase(w) for w in dict.fromkeys(w.lower() for w in words) if w.strip()]
        if not terms:
            return []
        with self._lock:
            rows = self._db.execute(
                "SELECT rowid, bm25(docs) FROM docs WHERE docs MATCH ? ORDER BY bm25(docs)",
                (" OR ".join(terms),),
            ).fetchall()
        matches = (TextMatch(int(r), float(s)) for r, s in rows)
        if allowed is not None:
            matches = (m for m in matches if allowed[m.position])
        return [m for _, m in zip(range(limit), matches)]


def _phrase(word: str) -> str:
    """A word as an FTS5 string (quoted: never read as the query syntax's AND/OR/NEAR/*)."""
    return '"' + word.replace('"', '""') + '"'


def words_of(text: str) -> list[str]:
    """The words of a message, lower-cased, in order."""
    return [w.lower() for w in _WORD.findall(text)]


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[int]], weights: Sequence[float] | None = None, k: int = RRF_K
) -> list[int]:
    """Positions ranked by sum_r weight_r / (k + rank_r) over the rankings that hold them
    (ranks from 1); ties keep the first ranking's order."""
    weights = weights or [1.0] * len(rankings)
    score: dict[int, float] = {}
    for ranking, weight in zip(rankings, weights):
        for rank, position in enumerate(ranking, start=1):
            score[position] = score.get(position, 0.0) + weight / (k + rank)
    order = {p: i for i, p in enumerate(dict.fromkeys(p for r in rankings for p in r))}
    return sorted(score, key=lambda p: (-score[p], order[p]))


def fused_search(
    index: SearchIndex,
    text: TextIndex,
    query: np.ndarray,
    words: Sequence[str],
    k: int,
    exclude: Iterable[str] = (),
    allowed: np.ndarray | None = None,
    text_weight: float = 1.0,
    depth: int = VECTOR_DEPTH,
) -> list[Hit]:
    """The top-k of the vector ranking (top `depth`) fused with the BM25 ranking of the items
    whose text holds any of `words` (weighing `text_weight` against the vectors' 1), both over
    the rows `allowed` and not in `exclude`; each hit keeps its vector score (the query's
    cosine with the item). The vector ranking alone where no item's text holds a word."""
    query = np.asarray(query, np.float32).reshape(-1)  # (D,)
    vector_hits = index.search(query, max(k, depth), exclude=exclude, allowed=allowed)[0]
    mask = index.searchable(exclude, allowed)
    matches = text.search(words, allowed=mask, limit=max(k, depth))
    if not matches:
        return vector_hits[:k]
    fused = reciprocal_rank_fusion(
        [[h.position for h in vector_hits], [m.position for m in matches]], [1.0, text_weight]
    )[:k]
    known = {h.position: h for h in vector_hits}
    missing = [p for p in fused if p not in known]
    if missing:
        from retrieval.index.search import Hit

        scores = np.asarray(index.vectors[missing], np.float32) @ query  # (M,)
        known |= {p: Hit(index.items[p], float(s), p) for p, s in zip(missing, scores)}
    return [known[p] for p in fused]
