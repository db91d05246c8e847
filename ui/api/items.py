"""The catalogue as the API shows it: facets with counts, items by id, their images by id (never
by a path a client gives) and "more like this" / "other colours" without a session."""

from __future__ import annotations

import io
from urllib.parse import quote

from PIL import Image

from agent.agent import Agent, Turn, TurnError
from agent.state import Result
from ui.api.errors import ApiError
from ui.api.models import CatalogueOut, Facet, FacetValue, ItemOut, ResultOut, SimilarOut
from ui.thumbnails import Thumbnails

MIN_SIDE, MAX_SIDE = 16, 1024  # ?size= bounds of an item's image


def image_url(item_id: str) -> str:
    return f"/v1/items/{quote(item_id, safe='')}/image"


def result_out(rank: int, result: Result) -> ResultOut:
    return ResultOut(
        rank=rank,
        id=result.id,
        title=result.title,
        attributes=result.attributes,
        score=round(float(result.score), 6),
        matches=result.matches,
        image_url=image_url(result.id),
    )


class CatalogueView:
    """Read-only answers about the agent's catalogue, shared by every request of a worker."""

    def __init__(self, agent: Agent, name: str):
        self.agent, self.catalogue, self.name = agent, agent.gallery.catalogue, name
        self.thumbnails = Thumbnails(self.catalogue)
        self.summary = self._summary()

    def _summary(self) -> CatalogueOut:
        """Each categorical attribute's values with the items that have them (a value of a
        several-valued cell counted for each), from the gallery's attribute table."""
        schema, table = self.agent.schema, self.agent.gallery.table
        facets = []
        for attribute in schema.categorical:
            if attribute not in table.values:
                continue
            counts = table.tally(attribute)
            values = [
                FacetValue(value=v, count=counts.get(v, 0))
                for v in schema.attributes[attribute].values
            ]
            facets.append(Facet(name=attribute, label=schema.label(attribute), values=values))
        size = len(self.catalogue.items)
        return CatalogueOut(name=self.name, size=size, kind=schema.kind, attributes=facets)

    def position(self, item_id: str) -> int:
        try:
            return self.catalogue.index_of(item_id)
        except KeyError:
            raise ApiError(404, "unknown_item", f"no item {item_id!r} in this catalogue") from None

    def item(self, item_id: str) -> ItemOut:
        item = self.catalogue.items[self.position(item_id)]
        return ItemOut(
            id=item.id, title=item.title, attributes=item.attributes, image_url=image_url(item.id)
        )

    def image(self, item_id: str, size: int | None) -> tuple[bytes, str]:
        """(bytes, media type) of the item's display image, at most `size` pixels a side."""
        self.position(item_id)  # an id of this catalogue, or 404: nothing else is read
        path = self.thumbnails.path(item_id)
        media = "image/jpeg" if path.endswith(".jpg") else "image/png"
        with open(path, "rb") as stored:
            data = stored.read()
        if size is None:
            return data, media
        if not MIN_SIDE <= size <= MAX_SIDE:
            raise ApiError(422, "bad_size", f"size={size}: give {MIN_SIDE} to {MAX_SIDE} pixels")
        picture = Image.open(io.BytesIO(data))
        scale = size / max(picture.size)
        resample = Image.NEAREST if scale > 1 else Image.LANCZOS  # renders stay crisp
        picture = picture.resize(
            (max(1, round(picture.width * scale)), max(1, round(picture.height * scale))),
            resample,
        )
        out = io.BytesIO()
        picture.convert("RGB").save(out, "JPEG" if media == "image/jpeg" else "PNG")
        return out.getvalue(), media

    def similar(self, item_id: str, mode: str) -> SimilarOut:
        """Results like `item_id` ("similar") or the same style in other colours ("colours"),
        each a first turn of a fresh dialogue that is not kept."""
        self.position(item_id)
        state = self.agent.new_state()
        try:
            if mode == "colours":
                new, results = self.agent.other_colours(state, item_id)
            else:
                new, results = self.agent.step(state, Turn(item=item_id))
        except TurnError as err:
            raise ApiError(422, "turn_refused", str(err)) from None
        out = [result_out(rank, r) for rank, r in enumerate(results, 1)]
        return SimilarOut(item_id=item_id, mode=mode, note=new.turns[-1].note, results=out)
