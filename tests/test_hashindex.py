"""vidlab.hashindex: multi-index hashing gives exactly the brute-force answer, only faster."""

from __future__ import annotations

import numpy as np
import pytest

from vidlab import hashindex
from vidlab.hashindex import HashIndex, Hits, brute_force_search, hex_to_words, words_to_hex


def random_hashes(count: int, words: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 2**64, size=(count, words), dtype=np.uint64)


def near_copies(hashes: np.ndarray, count: int, max_flips: int, seed: int) -> np.ndarray:
    """Copies of randomly chosen hashes with 0..max_flips random bits flipped (planted near-duplicates)."""
    rng = np.random.default_rng(seed)
    copies = hashes[rng.choice(len(hashes), count)].copy()
    bits = hashes.shape[1] * 64
    for row in copies:
        for bit in rng.choice(bits, rng.integers(0, max_flips + 1), replace=False):
            row[bit // 64] ^= np.uint64(1) << np.uint64(bit % 64)
    return copies


def same(a: Hits, b: Hits) -> bool:
    return all(np.array_equal(x, y) for x, y in zip(a, b))


@pytest.fixture(scope="module")
def pdq_like() -> tuple[HashIndex, np.ndarray]:
    """50,000 random 256-bit hashes and 400 queries: near copies of indexed hashes, and strangers."""
    hashes = random_hashes(50_000, 4, seed=1)
    queries = np.vstack([near_copies(hashes, 300, 50, seed=2), random_hashes(100, 4, seed=3)])
    return HashIndex(hashes), queries


@pytest.mark.parametrize("max_distance", [0, 10, 31, 32, 40, 47, 70])
def test_256_bit_search_equals_brute_force(pdq_like: tuple[HashIndex, np.ndarray], max_distance: int,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    index, queries = pdq_like
    if max_distance <= 40:  # the buckets answer these; only much wider radii may fall back to a scan
        monkeypatch.setattr(hashindex, "brute_force_search", lambda *_: pytest.fail("scanned instead of probing"))
    found = index.search(queries, max_distance)
    assert same(found, brute_force_search(index.hashes, queries, max_distance))
    assert (found.distance <= max_distance).all()
    assert len(found.query) >= {0: 1, 10: 30}.get(max_distance, 100)  # the planted copies are there


@pytest.mark.parametrize("max_distance", [0, 5, 8, 11, 12, 16])
def test_64_bit_search_equals_brute_force(max_distance: int) -> None:
    hashes = random_hashes(50_000, 1, seed=4)
    queries = np.vstack([near_copies(hashes, 300, 14, seed=5), random_hashes(100, 1, seed=6)])
    index = HashIndex(hashes)
    assert index.pieces == 4 and index.piece_bits == [16] * 4
    assert same(index.search(queries, max_distance), brute_force_search(hashes, queries, max_distance))


def test_pairs_within_is_every_close_pair_once() -> None:
    """A set with planted groups of near-duplicates (and exact duplicates): all pairs, each once, query < item."""
    base = random_hashes(3_000, 4, seed=7)
    hashes = np.vstack([base, near_copies(base[:200], 400, 20, seed=8), base[:5]])
    index = HashIndex(hashes)
    pairs = index.pairs_within(31)
    everything = brute_force_search(hashes, hashes, 31)
    keep = everything.query < everything.item
    assert same(pairs, Hits(everything.query[keep], everything.item[keep], everything.distance[keep]))
    assert (pairs.query < pairs.item).all() and len(pairs.query) >= 405


def test_hex_words_round_trip_and_hex_queries() -> None:
    hashes = random_hashes(50, 4, seed=9)
    texts = words_to_hex(hashes)
    assert all(len(t) == 64 for t in texts) and int(texts[0], 16) >> 192 == int(hashes[0, 0])
    assert np.array_equal(hex_to_words(texts), hashes)
    index = HashIndex(texts, decode_side=512)
    hits = index.search(texts[:3], 0)
    assert list(hits.query) == [0, 1, 2] and list(hits.item) == [0, 1, 2] and index.decode_side == 512
    assert index.nbytes >= hashes.nbytes + 16 * 50 * 4


def test_bad_input_is_refused_clearly() -> None:
    index = HashIndex(random_hashes(100, 4, seed=10))
    with pytest.raises(ValueError, match="64-bit hashes|256-bit"):
        index.search(random_hashes(3, 1, seed=11), 5)
    with pytest.raises(ValueError, match="0 or more"):
        index.search(index.hashes[:1], -1)
    with pytest.raises(ValueError, match="same length"):
        hex_to_words(["ab" * 8, "ab" * 32])
    with pytest.raises(ValueError, match="uint64"):
        HashIndex(np.zeros((3, 4), dtype=np.int64))
    empty = index.search(np.zeros((0, 4), dtype=np.uint64), 10)
    assert len(empty.query) == 0
