"""Instance search: the same product in other colours.

A second vector per item (a colour-invariant shape descriptor) in its own FAISS index beside
the main one, query expansion (AQE, alpha-QE), database-side augmentation (DBA) and diffusion
on the gallery's k-NN graph; `InstanceSearch.other_colours` answers from them.
`open_instance_search(gallery)` opens (building where missing) a gallery's.
"""

from __future__ import annotations

from retrieval.instance.expansion import alpha_query_expansion
from retrieval.instance.query import ExpansionSettings
from retrieval.instance.search import InstanceSearch
from retrieval.instance.store import build_instance, load_instance, open_instance_search

__all__ = [
    "ExpansionSettings",
    "InstanceSearch",
    "alpha_query_expansion",
    "build_instance",
    "load_instance",
    "open_instance_search",
]
