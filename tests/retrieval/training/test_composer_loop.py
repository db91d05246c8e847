import numpy as np
import pytest
import torch

from retrieval.training.composer_loop import lookalike_rows, soft_cross_entropy


def test_triplet_targets_keep_the_other_attributes(tiny_triplets):
    items = tiny_triplets.catalogue.items
    for t in tiny_triplets.triplets:
        ref, target = items[t.reference].attributes, items[t.target].attributes
        changed = dict(t.changes)
        assert 1 <= len(changed) <= 2
        for attribute in ref:
            expected = changed.get(attribute, ref[attribute])
            assert target[attribute] == expected
        assert t.text


def test_lookalikes_share_colour_and_pattern_but_not_category(tiny_triplets):
    items = tiny_triplets.catalogue.items
    rows = lookalike_rows(tiny_triplets, 3, np.random.default_rng(0))
    assert rows.shape == (len(tiny_triplets.triplets), 3)
    checked = 0
    for t, picks in zip(tiny_triplets.triplets, rows):
        target = items[t.target].attributes
        for row in picks:
            if row == t.target:
                continue  # no other category in this tiny catalogue's colour and pattern
            other = items[row].attributes
            assert (other["color"], other["pattern"]) == (target["color"], target["pattern"])
            assert other["category"] != target["category"]
            checked += 1
    assert checked > 0


def test_attribute_ids_group_identical_attributes(tiny_triplets):
    ids = tiny_triplets.attribute_ids
    items = tiny_triplets.catalogue.items
    for a in range(0, len(items), 7):
        for b in range(0, len(items), 5):
            same = items[a].attributes == items[b].attributes
            assert (ids[a] == ids[b]) == same


def test_soft_cross_entropy_spreads_over_every_positive():
    logits = torch.tensor([[2.0, 0.5, -1.0], [0.0, 1.0, 3.0]])
    one = torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    expected = torch.nn.functional.cross_entropy(logits, torch.tensor([0, 2]))
    assert soft_cross_entropy(logits, one).item() == pytest.approx(expected.item())
    both = torch.tensor([[1.0, 1.0, 0.0], [0.0, 1.0, 1.0]])
    log_p = logits.log_softmax(1)
    by_hand = -0.25 * (log_p[0, 0] + log_p[0, 1] + log_p[1, 1] + log_p[1, 2])
    assert soft_cross_entropy(logits, both).item() == pytest.approx(by_hand.item())
