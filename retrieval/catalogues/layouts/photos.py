"""Finding a product's photo in the image folder from what its export says of it: a path
relative to the folder (with or without leading slashes), a URL whose path ends like a file
of the folder, a file name, or the product's id as a file name without extension."""

from __future__ import annotations

from pathlib import PurePosixPath

from retrieval.catalogues.layouts.rows import reference_path


class PhotoFinder:
    """Looks references up among the folder's images (relative posix paths)."""

    def __init__(self, images):
        self.paths = {rel.lower(): rel for rel in images}
        self.names: dict[str, str] = {}
        self.stems: dict[str, str] = {}
        for rel in images:
            path = PurePosixPath(rel)
            self.names.setdefault(path.name.lower(), rel)
            self.stems.setdefault(path.stem.lower(), rel)

    def find(self, reference: str) -> str | None:
        """The image a reference names: the longest tail of its path that is a path in the
        folder ('/m/h/x.jpg', 'https://cdn.shop/files/x.jpg?v=1'), else a file of its name
        anywhere in the folder."""
        parts = reference_path(reference).lower().split("/")
        for start in range(len(parts)):
            found = self.paths.get("/".join(parts[start:]))
            if found:
                return found
        return self.names.get(parts[-1]) if parts[-1] else None

    def first(self, references: list[str], item_id: str) -> str | None:
        """The first reference found (the main photo first), else the image named by the id."""
        for reference in references:
            found = self.find(reference)
            if found:
                return found
        for reference in references:  # a file name whose folder differs: the stem alone
            stem = PurePosixPath(reference_path(reference)).stem.lower()
            if stem and stem in self.stems:
                return self.stems[stem]
        return self.stems.get(item_id.lower()) if item_id else None

    def naming_column(self, columns: list[str], rows: list[dict[str, str]], sample: int = 200):
        """('file' or 'id', column) of the column whose values name the folder's photos in
        at least half of the first `sample` rows, the most of them: by path or file name
        ('file'), else as the file name without its extension ('id'; 'Item Number' holding
        'P00017' for P00017.jpg); None when no column does."""
        head, best = rows[:sample], None
        for column in columns:
            values = [row.get(column) or "" for row in head]
            as_files = sum(bool(v) and self.find(v) is not None for v in values)
            as_ids = sum(v.lower() in self.stems for v in values if v)
            for key, hits in (("file", as_files), ("id", as_ids)):
                if head and hits * 2 >= len(head) and (best is None or hits > best[0]):
                    best = (hits, key, column)
        return best[1:] if best else None
