"""eval.published: the ranking-to-metric step against the official code, end to end on tiny
Fashion IQ / CIRR folders in their own layouts, with the tiny encoder and training-free composers."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from eval import published
from eval.metrics import recall_at_k
from eval.published import (
    cirr_ranks,
    clip4cir_fiq_caption,
    evaluate_cirr,
    evaluate_fashion_iq,
    fashion_iq_ranks,
    markdown_cirr,
    markdown_fashion_iq,
)
from retrieval.compose import build_composer

REAL = Path(__file__).resolve().parents[3] / "shared" / "data" / "fashion-iq"
SEEDS = [0, 1, 2, 3]


# ---- fixture writing ----


def write_json(path: Path, data: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")


def pattern(seed: int, size: int = 24) -> np.ndarray:
    """(size, size, 3) uint8: a solid background with three coloured blocks."""
    rng = np.random.default_rng(seed)
    image = np.zeros((size, size, 3), np.uint8)
    image[:] = rng.integers(0, 256, 3)
    for _ in range(3):
        y, x = rng.integers(0, size - 4, 2)
        h, w = rng.integers(3, size // 2, 2)
        image[y : y + h, x : x + w] = rng.integers(0, 256, 3)
    return image


def save(path: Path, image: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(image).save(path)


def decoded(path: Path) -> np.ndarray:
    with Image.open(path) as img:
        return np.asarray(img.convert("RGB"))


def least_similar(encoder, images: list[np.ndarray]) -> list[int]:
    """For each image, the index of the other image least similar to it (a clear minimum)."""
    vectors = encoder.encode_images(images)
    sims = vectors @ vectors.T
    order = np.argsort(sims, axis=1)
    gaps = sims[np.arange(len(images)), order[:, 1]] - sims[np.arange(len(images)), order[:, 0]]
    assert (gaps > 1e-6).all(), "fixture: the least similar image must be unique"
    return order[:, 0].tolist()


# ---- the ranking-to-metric step against the official code ----


def clip4cir_fiq(scores: np.ndarray, target_names: list[str], index_names: list[str]):
    """ABaldrati/CLIP4Cir src/validate.py compute_fiq_val_metrics, line for line, given the
    score matrix `predicted_features @ index_features.T`."""
    distances = 1 - torch.from_numpy(scores)
    sorted_indices = torch.argsort(distances, dim=-1).cpu()
    sorted_index_names = np.array(index_names)[sorted_indices]
    labels = torch.tensor(
        sorted_index_names
        == np.repeat(np.array(target_names), len(index_names)).reshape(len(target_names), -1)
    )
    assert torch.equal(torch.sum(labels, dim=-1).int(), torch.ones(len(target_names)).int())
    recall_at10 = (torch.sum(labels[:, :10]) / len(labels)).item() * 100
    recall_at50 = (torch.sum(labels[:, :50]) / len(labels)).item() * 100
    return recall_at10, recall_at50


def clip4cir_cirr(scores, reference_names, target_names, group_members, index_names):
    """CLIP4Cir src/validate.py compute_cirr_val_metrics, line for line, given the scores."""
    distances = 1 - torch.from_numpy(scores)
    sorted_indices = torch.argsort(distances, dim=-1).cpu()
    sorted_index_names = np.array(index_names)[sorted_indices]
    reference_mask = torch.tensor(
        sorted_index_names
        != np.repeat(np.array(reference_names), len(index_names)).reshape(len(target_names), -1)
    )
    sorted_index_names = sorted_index_names[reference_mask].reshape(
        sorted_index_names.shape[0], sorted_index_names.shape[1] - 1
    )
    labels = torch.tensor(
        sorted_index_names
        == np.repeat(np.array(target_names), len(index_names) - 1).reshape(len(target_names), -1)
    )
    group_members = np.array(group_members)
    group_mask = (sorted_index_names[..., None] == group_members[:, None, :]).sum(-1).astype(bool)
    group_labels = labels[group_mask].reshape(labels.shape[0], -1)
    assert torch.equal(torch.sum(labels, dim=-1).int(), torch.ones(len(target_names)).int())
    assert torch.equal(torch.sum(group_labels, dim=-1).int(), torch.ones(len(target_names)).int())
    recall = {k: (torch.sum(labels[:, :k]) / len(labels)).item() * 100 for k in (1, 5, 10, 50)}
    subset = {
        k: (torch.sum(group_labels[:, :k]) / len(group_labels)).item() * 100 for k in (1, 2, 3)
    }
    return recall, subset


def cirplant_cirr(scores, source_img_ids, targets, set_member_idx):
    """Cuberick-Orion/CIRPLANT OSCAR_CIRPLANT.py eval_test_prepare_step_CIRR and
    eval_test_scoring_step_CIRR with the hard target ({target: 1.0}), loop for loop."""
    sims = scores.copy()
    for i, source in enumerate(source_img_ids):
        sims[i, source] = sims[i].min()
    nn_result = [list(np.argsort(-sims[i, :])) for i in range(sims.shape[0])]
    targets_soft = [{t: 1.0} for t in targets]
    recall, subset = {}, {}
    for k in [1, 5, 10, 50]:
        r = 0.0
        for i, nns in enumerate(nn_result):
            highest_r = 0.0
            for ii, ss in targets_soft[i].items():
                if ii in nns[:k]:
                    highest_r = max(highest_r, ss)
            r += highest_r
        recall[k] = r / len(nn_result)
    for k in [1, 2, 3]:
        r = 0.0
        for i, nns in enumerate(nn_result):
            nns = [iii for iii in nns if iii in set_member_idx[i]]
            highest_r = 0.0
            for ii, ss in targets_soft[i].items():
                if ii in nns[:k]:
                    highest_r = max(highest_r, ss)
            r += highest_r
        subset[k] = r / len(nn_result)
    return recall, subset


def synthetic_cirr(seed: int, q: int = 40, n: int = 120):
    """Seeded scores, distinct reference and target, and six img_set members per query."""
    rng = np.random.default_rng(seed)
    scores = rng.random((q, n))  # float64: no ties
    picks = np.array([rng.choice(n, 6, replace=False) for _ in range(q)])  # (q, 6)
    references, targets = picks[:, 0], picks[:, 1]
    members = rng.permuted(picks, axis=1)  # reference and target among the members
    return scores, references, targets, members


def test_caption_join_follows_clip4cir():
    assert clip4cir_fiq_caption(["is Blue.", " has a V-neck?"]) == "Is blue and has a V-neck"
    assert clip4cir_fiq_caption(["darker, ", "...shorter"]) == "Darker and shorter"
    assert clip4cir_fiq_caption(["", "is red"]) == " and is red"
    assert clip4cir_fiq_caption(["is red"]) == "Is red and "
    assert clip4cir_fiq_caption(["a", "b", "c"]) == "A and b"


def test_fashion_iq_keeps_the_reference_and_cirr_removes_it():
    # Query 0: reference 2 scores highest, then target 0; query 1: target 3 first.
    scores = np.array([[0.8, 0.1, 0.9, 0.3, 0.2], [0.1, 0.5, 0.2, 0.9, 0.4]])
    references, targets = np.array([2, 1]), np.array([0, 3])
    assert fashion_iq_ranks(scores, targets).tolist() == [1, 0]
    ranks, subset = cirr_ranks(scores, references, targets, [[2, 0, 4], [1, 3, 0]])
    assert ranks.tolist() == [0, 0]
    assert subset.tolist() == [0, 0]  # subsets {0, 4} and {3, 0} once the reference is out


def test_ties_are_broken_by_gallery_order():
    scores = np.array([[0.5, 0.7, 0.7, 0.7]])
    assert fashion_iq_ranks(scores, np.array([2])).tolist() == [1]
    assert fashion_iq_ranks(scores, np.array([3])).tolist() == [2]


@pytest.mark.parametrize("seed", SEEDS)
def test_fashion_iq_recalls_match_clip4cir(seed):
    rng = np.random.default_rng(seed)
    scores = rng.random((70, 130))
    targets = rng.integers(0, 130, 70)
    names = [f"B{i:04d}" for i in range(130)]
    want = clip4cir_fiq(scores, [names[t] for t in targets], names)
    got = recall_at_k(fashion_iq_ranks(scores, targets), (10, 50))
    assert 100 * got[10] == pytest.approx(want[0], abs=1e-4)
    assert 100 * got[50] == pytest.approx(want[1], abs=1e-4)


@pytest.mark.parametrize("seed", SEEDS)
def test_cirr_recalls_match_clip4cir_and_cirplant(seed):
    scores, references, targets, members = synthetic_cirr(seed)
    names = [f"dev-{i}-img0" for i in range(scores.shape[1])]
    ranks, subset = cirr_ranks(scores, references, targets, members.tolist())
    got_recall, got_subset = recall_at_k(ranks, (1, 5, 10, 50)), recall_at_k(subset, (1, 2, 3))
    want_recall, want_subset = clip4cir_cirr(
        scores,
        [names[r] for r in references],
        [names[t] for t in targets],
        [[names[m] for m in row] for row in members],
        names,
    )
    assert {k: 100 * v for k, v in got_recall.items()} == pytest.approx(want_recall, abs=1e-4)
    assert {k: 100 * v for k, v in got_subset.items()} == pytest.approx(want_subset, abs=1e-4)
    set_member_idx = [[m for m in row if m != r] for row, r in zip(members.tolist(), references)]
    plant_recall, plant_subset = cirplant_cirr(scores, references, targets, set_member_idx)
    assert got_recall == pytest.approx(plant_recall, abs=1e-12)
    assert got_subset == pytest.approx(plant_subset, abs=1e-12)


# ---- Fashion IQ end to end ----


def write_fiq(root: Path, category: str, names: list[str], triplets: list[tuple]) -> None:
    """captions/cap.{category}.val.json and image_splits/split.{category}.val.json."""
    entries = [{"target": t, "candidate": c, "captions": list(caps)} for c, t, caps in triplets]
    write_json(root / "captions" / f"cap.{category}.val.json", entries)
    write_json(root / "image_splits" / f"split.{category}.val.json", names)


CAPTIONS = [
    ("is Blue.", "has long sleeves"),
    (" is darker ", "shorter, "),
    ("has stripes?", "is more Casual"),
    ("is red", ""),  # the loader drops the empty caption; CLIP4Cir joins "Is red and "
    ("", "is an off the shoulder top"),
]


def realistic_fiq(root: Path) -> None:
    """Three categories, 60/30/12 images; a .jpg, two missing files, an unreadable one."""
    sizes = {"dress": 60, "shirt": 30, "toptee": 12}
    for c, (category, n) in enumerate(sizes.items()):
        names = [f"{category[0].upper()}{i:03d}" for i in range(n)]
        triplets = [
            (names[i], names[(7 * i + 3) % n], CAPTIONS[i % len(CAPTIONS)]) for i in range(n // 2)
        ]
        write_fiq(root, category, names, triplets)
        for i, name in enumerate(names):
            save(root / "images" / f"{name}.png", pattern(100 * c + i))
    (root / "images" / "D005.png").rename(root / "images" / "D005.jpg")
    (root / "images" / "D059.png").unlink()  # gallery only
    (root / "images" / "D003.png").unlink()  # the target of dress query 0: skipped
    (root / "images" / "D058.png").write_bytes(b"not an image")


def independent_fiq(root: Path, category: str, encoder, composer) -> dict[int, float]:
    """R@10 and R@50 from files, vectors and scores computed here with plain loops."""
    names = json.loads((root / "image_splits" / f"split.{category}.val.json").read_text())
    arrays = {}
    for name in names:
        for suffix in (".jpg", ".png"):
            path = root / "images" / f"{name}{suffix}"
            try:
                arrays[name] = decoded(path)
                break
            except (FileNotFoundError, OSError):
                continue
    gallery = [name for name in names if name in arrays]
    vectors = encoder.encode_images([arrays[name] for name in gallery])
    pos = {name: i for i, name in enumerate(gallery)}
    entries = json.loads((root / "captions" / f"cap.{category}.val.json").read_text())
    entries = [e for e in entries if e["candidate"] in pos and e["target"] in pos]
    texts = [
        f"{e['captions'][0].strip('.?, ').capitalize()} and {e['captions'][1].strip('.?, ')}"
        for e in entries
    ]
    queries = composer.compose(vectors[[pos[e["candidate"]] for e in entries]], texts)
    scores = queries @ vectors.T
    ranks = []
    for row, entry in zip(scores, entries):
        t = pos[entry["target"]]
        ranks.append(sum(s > row[t] for s in row) + sum(s == row[t] for s in row[:t]))
    return {k: sum(r < k for r in ranks) / len(ranks) for k in (10, 50)}


def test_fashion_iq_matches_an_independent_computation(tmp_path, tiny_encoder):
    realistic_fiq(tmp_path)
    composer = build_composer("sum", tiny_encoder)
    report = evaluate_fashion_iq(tmp_path, encoder=tiny_encoder, composer=composer, batch_size=64)
    for category in ("dress", "shirt", "toptee"):
        want = independent_fiq(tmp_path, category, tiny_encoder, composer)
        got = report["categories"][category]
        assert got["recall"] == {"10": want[10], "50": want[50]}
        assert got["recall_percent"] == pytest.approx({"10": 100 * want[10], "50": 100 * want[50]})
    dress = report["categories"]["dress"]
    assert (dress["gallery"], dress["gallery_missing"], dress["gallery_unreadable"]) == (57, 2, 1)
    # Skipped: query 0 (target D003 missing), 3 (reference D003), 8 (target D059 missing),
    # 25 (target D058 unreadable).
    assert (dress["queries"], dress["queries_skipped"]) == (26, 4)
    assert report["categories"]["toptee"]["gallery"] == 12
    assert report["categories"]["shirt"]["recall"]["50"] == 1.0  # 30 images
    cats = report["categories"].values()
    r10 = sum(c["recall"]["10"] for c in cats) / 3
    r50 = sum(c["recall"]["50"] for c in cats) / 3
    assert report["average"] == pytest.approx({"r10": r10, "r50": r50, "average": (r10 + r50) / 2})
    assert report["average_percent"]["average"] == pytest.approx(50 * (r10 + r50))
    assert (report["images"], report["images_missing"]) == (102, 2)
    assert json.loads(json.dumps(report)) == report


def forced_fiq(root: Path, encoder) -> None:
    """dress: 11 images, each query's target the image least like its reference, so with the
    image-only composer the reference ranks 0 and the target 10. shirt: the same plus one
    query whose target is a byte copy of its reference (rank 0 or 1); the copied image is no
    query's far target, so the far targets stay last (rank 11)."""
    for c, category in enumerate(("dress", "shirt")):
        images = [pattern(500 + 20 * c + i) for i in range(11)]
        names = [f"{category}{i:02d}" for i in range(11)]
        for name, image in zip(names, images):
            save(root / "images" / f"{name}.png", image)
        far = least_similar(encoder, images)
        triplets = [(names[i], names[far[i]], ("x", "y")) for i in range(11)]
        if category == "shirt":
            copied = next(j for j in range(11) if j not in far)
            shutil.copy(root / "images" / f"{names[copied]}.png", root / "images" / "copy.png")
            names.append("copy")
            triplets.append((names[copied], "copy", ("x", "y")))
        write_fiq(root, category, names, triplets)


def test_fashion_iq_forced_ranks_keep_the_reference(tmp_path, tiny_encoder):
    forced_fiq(tmp_path, tiny_encoder)
    composer = build_composer("image-only", tiny_encoder)
    report = evaluate_fashion_iq(
        tmp_path, ("dress", "shirt"), encoder=tiny_encoder, composer=composer
    )
    # Removing the reference would move every dress target to rank 9, a hit at 10.
    assert report["categories"]["dress"]["recall"] == {"10": 0.0, "50": 1.0}
    # shirt: 12 images, the 11 far targets at rank 11, the copy at rank 0 or 1.
    assert report["categories"]["shirt"]["recall"] == {"10": 1 / 12, "50": 1.0}
    assert report["average"] == pytest.approx({"r10": 1 / 24, "r50": 1.0, "average": 25 / 48})


def test_second_run_encodes_nothing(tmp_path, tiny_encoder, monkeypatch, isolated_home):
    realistic_fiq(tmp_path)
    composer = build_composer("sum", tiny_encoder)
    encoded = []
    real = tiny_encoder.encode_images

    def spy(images, batch_size=None):
        encoded.append(len(images))
        return real(images, batch_size)

    monkeypatch.setattr(tiny_encoder, "encode_images", spy)
    run = dict(categories=("shirt", "toptee"), encoder=tiny_encoder, composer=composer)
    first = evaluate_fashion_iq(tmp_path, **run)
    assert encoded == [30, 12]
    assert (isolated_home / "embeddings").is_dir()
    encoded.clear()
    assert evaluate_fashion_iq(tmp_path, **run) == first
    assert encoded == []
    evaluate_fashion_iq(tmp_path, **run, use_cache=False)
    assert encoded == [30, 12]


def test_composer_gets_clip4cir_texts_and_decoded_references(tmp_path, tiny_encoder):
    realistic_fiq(tmp_path)
    composer = build_composer("sum", tiny_encoder)
    composer.needs_images = True
    seen_texts, seen_images = [], []
    plain = composer._compose

    def recording(references, texts, images=None):
        seen_texts.extend(texts)
        seen_images.extend(images)
        return plain(references, texts, images)

    composer._compose = recording
    evaluate_fashion_iq(tmp_path, ("toptee",), encoder=tiny_encoder, composer=composer)
    assert seen_texts == [
        "Is blue and has long sleeves",
        "Is darker and shorter",
        "Has stripes and is more Casual",  # only the first is capitalised
        "Is red and ",
        " and is an off the shoulder top",
        "Is blue and has long sleeves",
    ]
    want = [decoded(tmp_path / "images" / f"T{i:03d}.png") for i in range(6)]
    assert len(seen_images) == 6
    assert all(np.array_equal(a, b) for a, b in zip(seen_images, want))


def test_fashion_iq_without_images_raises_naming_the_folder(tmp_path, tiny_encoder):
    write_fiq(tmp_path, "dress", ["A", "B", "C"], [("A", "B", ("x", "y")), ("C", "D", ("x", "y"))])
    composer = build_composer("image-only", tiny_encoder)
    with pytest.raises(ValueError) as info:
        evaluate_fashion_iq(tmp_path, ("dress",), encoder=tiny_encoder, composer=composer)
    message = str(info.value)
    assert "all 4 images are missing" in message  # A, B, C and the query's D
    assert str(tmp_path / "images") in message and "\n" not in message


def test_fashion_iq_category_without_usable_queries_raises(tmp_path, tiny_encoder):
    realistic_fiq(tmp_path)
    write_fiq(tmp_path, "toptee", ["Z1", "Z2"], [("Z1", "Z2", ("x", "y"))])
    composer = build_composer("image-only", tiny_encoder)
    with pytest.raises(ValueError, match=r"^Fashion IQ toptee: none of its 1 queries"):
        evaluate_fashion_iq(tmp_path, encoder=tiny_encoder, composer=composer)


@pytest.mark.skipif(not REAL.exists(), reason="real Fashion IQ files not in shared/data/fashion-iq")
def test_real_fashion_iq_captions_without_images_say_every_image_is_missing(tiny_encoder):
    names = set()
    for category in ("dress", "shirt", "toptee"):
        names |= set(json.loads((REAL / "image_splits" / f"split.{category}.val.json").read_text()))
        for entry in json.loads((REAL / "captions" / f"cap.{category}.val.json").read_text()):
            names |= {entry["candidate"], entry["target"]}
    composer = build_composer("image-only", tiny_encoder)
    with pytest.raises(ValueError) as info:
        evaluate_fashion_iq(REAL, encoder=tiny_encoder, composer=composer)
    message = str(info.value)
    assert f"all {len(names)} images are missing" in message
    assert str(REAL / "images") in message and "\n" not in message


# ---- CIRR end to end ----


def write_cirr(root: Path, images: dict[str, np.ndarray], queries: list[dict]) -> None:
    """captions/cap.rc2.val.json, image_splits/split.rc2.val.json, img_raw/dev/<name>.png."""
    write_json(root / "image_splits" / "split.rc2.val.json", {n: f"./dev/{n}.png" for n in images})
    write_json(root / "captions" / "cap.rc2.val.json", queries)
    for name, image in images.items():
        save(root / "img_raw" / "dev" / f"{name}.png", image)


def cirr_query(pairid: int, reference: str, target: str, members: list[str], caption="x"):
    return {
        "pairid": pairid,
        "reference": reference,
        "target_hard": target,
        "target_soft": {target: 1.0},
        "caption": caption,
        "img_set": {"id": pairid, "members": members},
    }


def forced_cirr(root: Path, encoder) -> None:
    """12 images and a byte copy of the first: query 0's target is the copy (rank 0 once the
    reference is out); queries 1..11 target the image least like the reference (rank 10 or
    11, a miss at 10, and last of its five subset members)."""
    images = {f"dev-{i}-img0": pattern(900 + i) for i in range(12)}
    names = list(images)
    far = least_similar(encoder, list(images.values()))
    images["dev-copy-img0"] = images[names[0]]
    queries = [cirr_query(0, names[0], "dev-copy-img0", [names[0], "dev-copy-img0", *names[1:5]])]
    for i in range(1, 12):
        others = [n for j, n in enumerate(names) if j not in (i, far[i])][:4]
        queries.append(cirr_query(i, names[i], names[far[i]], [names[i], names[far[i]], *others]))
    write_cirr(root, images, queries)


def test_cirr_forced_ranks_remove_the_reference(tmp_path, tiny_encoder):
    forced_cirr(tmp_path, tiny_encoder)
    composer = build_composer("image-only", tiny_encoder)
    report = evaluate_cirr(tmp_path, encoder=tiny_encoder, composer=composer)
    assert report["recall"] == {"1": 1 / 12, "5": 1 / 12, "10": 1 / 12, "50": 1.0}
    assert report["recall_subset"] == {"1": 1 / 12, "2": 1 / 12, "3": 1 / 12}
    assert report["average"] == pytest.approx(1 / 12)
    assert report["average_percent"] == pytest.approx(100 / 12)
    assert (report["queries"], report["gallery"], report["images_missing"]) == (12, 13, 0)
    assert report["images_dir"] == str(tmp_path / "img_raw")


def test_cirr_matches_an_independent_computation_and_counts_missing(tmp_path, tiny_encoder):
    images = {f"dev-{i}-img{i % 2}": pattern(700 + i) for i in range(20)}
    names = list(images)
    queries = []
    for i in range(18):
        target = names[(3 * i + 1) % 20]
        others = [n for n in names if n not in (names[i], target)][i % 10 : i % 10 + 4]
        queries.append(cirr_query(i, names[i], target, [names[i], target, *others]))
    write_cirr(tmp_path, images, queries)
    (tmp_path / "img_raw" / "dev" / f"{names[19]}.png").unlink()  # query 6's target
    composer = build_composer("sum", tiny_encoder)
    report = evaluate_cirr(tmp_path, encoder=tiny_encoder, composer=composer)
    assert (report["gallery"], report["gallery_missing"]) == (19, 1)
    assert (report["queries"], report["queries_skipped"]) == (17, 1)
    gallery = names[:19]
    vectors = tiny_encoder.encode_images([images[n] for n in gallery])
    kept = [q for q in queries if q["target_hard"] != names[19]]
    pos = {n: i for i, n in enumerate(gallery)}
    composed = composer.compose(vectors[[pos[q["reference"]] for q in kept]], ["x"] * len(kept))
    scores = composed @ vectors.T
    subsets = [[pos[m] for m in q["img_set"]["members"] if m in pos] for q in kept]
    references = [pos[q["reference"]] for q in kept]
    targets = [pos[q["target_hard"]] for q in kept]
    want_recall, want_subset = cirplant_cirr(
        scores, references, targets, [[m for m in s if m != r] for s, r in zip(subsets, references)]
    )
    assert report["recall"] == pytest.approx({str(k): v for k, v in want_recall.items()})
    assert report["recall_subset"] == pytest.approx({str(k): v for k, v in want_subset.items()})


def test_cirr_images_in_clip4cirs_layout_are_found(tmp_path, tiny_encoder):
    # CLIP4Cir: cirr_dataset/cirr/{captions,image_splits}, images at cirr_dataset/dev/.
    root = tmp_path / "cirr_dataset" / "cirr"
    forced_cirr(root, tiny_encoder)
    shutil.move(root / "img_raw" / "dev", tmp_path / "cirr_dataset" / "dev")
    composer = build_composer("image-only", tiny_encoder)
    report = evaluate_cirr(root, encoder=tiny_encoder, composer=composer)
    assert report["images_dir"] == str(tmp_path / "cirr_dataset")
    assert report["recall"]["1"] == 1 / 12 and report["images_missing"] == 0


def test_cirr_without_images_raises_naming_the_folder(tmp_path, tiny_encoder):
    images = {f"dev-{i}-img0": pattern(i) for i in range(3)}
    write_cirr(tmp_path, images, [cirr_query(0, "dev-0-img0", "dev-1-img0", list(images))])
    shutil.rmtree(tmp_path / "img_raw")
    composer = build_composer("image-only", tiny_encoder)
    with pytest.raises(ValueError) as info:
        evaluate_cirr(tmp_path, encoder=tiny_encoder, composer=composer)
    message = str(info.value)
    assert "all 3 images are missing" in message and str(tmp_path / "img_raw") in message


def test_cirr_test_split_is_refused(tmp_path, tiny_encoder):
    entry = {"pairid": 1, "reference": "a", "caption": "x", "img_set": {"members": ["a"]}}
    write_json(tmp_path / "captions" / "cap.rc2.test1.json", [entry])
    write_json(tmp_path / "image_splits" / "split.rc2.test1.json", {"a": "./test1/a.png"})
    composer = build_composer("image-only", tiny_encoder)
    with pytest.raises(ValueError, match=r"^CIRR test1: .*submit test1 rankings"):
        evaluate_cirr(tmp_path, "test1", encoder=tiny_encoder, composer=composer)


@pytest.mark.parametrize(
    ("call", "says"),
    [
        (lambda r, e, c: evaluate_fashion_iq(r, (), encoder=e, composer=c), "^categories:"),
        (
            lambda r, e, c: evaluate_fashion_iq(r, encoder=e, composer=c, batch_size=0),
            "^batch_size:",
        ),
        (lambda r, e, c: evaluate_cirr(r, encoder=e, composer=c, batch_size=1.5), "^batch_size:"),
    ],
)
def test_bad_arguments_raise_one_line_value_errors(tmp_path, tiny_encoder, call, says):
    composer = build_composer("image-only", tiny_encoder)
    with pytest.raises(ValueError, match=says) as info:
        call(tmp_path, tiny_encoder, composer)
    assert "\n" not in str(info.value)


# ---- tables ----


def fiq_report(model: str, values: list[float]) -> dict:
    cats = {
        c: {"recall_percent": {"10": values[2 * i], "50": values[2 * i + 1]}}
        for i, c in enumerate(("dress", "shirt", "toptee"))
    }
    r10, r50 = sum(values[0::2]) / 3, sum(values[1::2]) / 3
    avg = {"r10": r10, "r50": r50, "average": (r10 + r50) / 2}
    return {"model": model, "categories": cats, "average_percent": avg}


def test_markdown_fashion_iq_prints_the_papers_columns():
    table = markdown_fashion_iq(
        [fiq_report("a + sum", [10, 20, 30, 40, 50, 60]), fiq_report("b + x", [1] * 6)]
    ).splitlines()
    assert table[0] == (
        "| Model | Dress R@10 | Dress R@50 | Shirt R@10 | Shirt R@50 | Toptee R@10 | "
        "Toptee R@50 | Avg R@10 | Avg R@50 | Avg |"
    )
    assert table[1] == "| --- " * 10 + "|"
    assert table[2] == (
        "| a + sum | 10.00 | 20.00 | 30.00 | 40.00 | 50.00 | 60.00 | 30.00 | 40.00 | 35.00 |"
    )
    assert len(table) == 4


def test_markdown_tables_of_real_reports(tmp_path, tiny_encoder):
    forced_cirr(tmp_path / "cirr", tiny_encoder)
    forced_fiq(tmp_path / "fiq", tiny_encoder)
    composer = build_composer("image-only", tiny_encoder)
    cirr = markdown_cirr(evaluate_cirr(tmp_path / "cirr", encoder=tiny_encoder, composer=composer))
    assert cirr.splitlines()[0] == (
        "| Model | R@1 | R@5 | R@10 | R@50 | Rsubset@1 | Rsubset@2 | Rsubset@3 | Avg |"
    )
    assert cirr.splitlines()[2] == (
        f"| {tiny_encoder.model_id} + image-only | 8.33 | 8.33 | 8.33 | 100.00 "
        "| 8.33 | 8.33 | 8.33 | 8.33 |"
    )
    fiq = evaluate_fashion_iq(
        tmp_path / "fiq", ("dress", "shirt"), encoder=tiny_encoder, composer=composer
    )
    row = markdown_fashion_iq(fiq).splitlines()[2]
    assert row.endswith("| 0.00 | 100.00 | 8.33 | 100.00 | - | - | 4.17 | 100.00 | 52.08 |")


def test_module_constants_match_the_papers():
    assert published.FIQ_KS == (10, 50)
    assert published.CIRR_KS == (1, 5, 10, 50)
    assert published.CIRR_SUBSET_KS == (1, 2, 3)
