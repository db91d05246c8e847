from functools import partial

import numpy as np
import pytest

from retrieval.catalogues import FmnistColorCatalogue
from retrieval.encoders.fashion_mini import FashionMiniEncoder
from retrieval.indexing.local import build_index
from retrieval.indexing.ray_engine import (
    SHARDS_DIR,
    build_index_ray,
    embed_shard,
    merge_shards,
    plan_shards,
)

TIMING_FIELDS = {"build_seconds", "built_at"}


def test_shards_cover_every_position_once():
    shards = plan_shards(10, 4)
    assert shards == [
        {"shard": 0, "start": 0, "stop": 4},
        {"shard": 1, "start": 4, "stop": 8},
        {"shard": 2, "start": 8, "stop": 10},
    ]
    assert plan_shards(0) == []


def test_shards_written_out_of_order_merge_in_item_order(tiny_encoder, tmp_path):
    catalogue = FmnistColorCatalogue("test", limit=50)
    for shard in reversed(plan_shards(50, 16)):
        meta = embed_shard(catalogue, tiny_encoder, None, **shard, folder=tmp_path, batch_size=8)
        assert meta["count"] == shard["stop"] - shard["start"] == meta["encoded"]
    merged = merge_shards(tmp_path, catalogue, tiny_encoder.dim, tmp_path / "vectors.npy")
    local = build_index(catalogue, tiny_encoder, progress=False)
    assert [i.id for i in merged.items] == [i.id for i in local.items]
    np.testing.assert_allclose(np.asarray(merged.vectors), local.vectors, atol=1e-5)
    assert merged.encoded == 50 and merged.skipped == []


@pytest.fixture
def local_ray():
    ray = pytest.importorskip("ray")
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        object_store_memory=100 * 2**20,
    )
    yield ray
    ray.shutdown()


@pytest.mark.slow
def test_ray_engine_matches_the_local_engine(local_ray, tiny_encoder, tiny_weights, tmp_path):
    catalogue = partial(FmnistColorCatalogue, "test", limit=300)
    built = build_index_ray(
        catalogue,
        tiny_encoder,
        tmp_path / "ray",
        "IVF4,Flat",
        encoder_builder=partial(FashionMiniEncoder, tiny_weights, "cpu"),
        shard_size=64,
        use_cache=False,
        concurrency=2,
        progress=False,
    )
    local = build_index(catalogue(), tiny_encoder, "IVF4,Flat", progress=False)
    assert [i.id for i in built.items] == [i.id for i in local.items]
    np.testing.assert_allclose(np.asarray(built.vectors), local.vectors, atol=1e-5)
    assert built.manifest.model_dump(exclude=TIMING_FIELDS) == local.manifest.model_dump(
        exclude=TIMING_FIELDS
    )
    assert built.manifest.count == 300 and built.manifest.encoded == 300
    shards = list((tmp_path / "ray" / SHARDS_DIR).glob("*/shard-*.vectors.npy"))
    assert len(shards) == 5  # kept until the index is saved: a crashed build resumes
    built.save(tmp_path / "ray")
    query = local.vector(local.items[17].id)
    assert [h.item.id for h in built.search(query, 5)[0]] == [
        h.item.id for h in local.search(query, 5)[0]
    ]
