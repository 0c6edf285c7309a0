"""Exact near-duplicate search over many hashes: "every known hash within d bits of this one", fast.

Multi-index hashing (Norouzi, Punjani & Fleet, 2012): each hash is cut into m pieces of about
log2(N) bits and every piece position gets a bucket table. If two hashes differ in at most d
bits, then by the pigeonhole principle some piece differs in at most ⌊d/m⌋ bits — more exactly,
with d = r·m + a, one of the first a+1 pieces is within r bits or one of the others within r-1.
A search looks only into the buckets that near (that the query's pieces reach by flipping that
many bits) and checks those candidates' full distances, so its answer is exactly the
brute-force answer, found in a sliver of the time.

Hashes are uint64 words, most significant first (``hex_to_words``): the same index serves 64-bit
pHash and 256-bit PDQ. 1.5 million PDQ hashes: 13 pieces, about 48 MB of hashes plus 4 bytes per
hash per piece and 4 MB of bucket starts per piece — under 200 MB in all (bench_index.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from itertools import combinations
from math import comb
from typing import NamedTuple

import numpy as np

__all__ = ["Hits", "HashIndex", "hex_to_words", "words_to_hex", "brute_force_search"]

#: Pieces are about log2(N) bits (buckets then hold about one hash each), between these bounds: shorter pieces
#: mean crowded buckets, longer ones bucket tables of 2^bits starts.
PIECE_BITS = (8, 22)
#: Cost model (ns, measured here) that decides between probing buckets and scanning every hash: a bucket
#: lookup, a candidate checked (scattered reads), one 64-bit word of one hash scanned.
NS_PROBE, NS_CANDIDATE, NS_SCANNED_WORD = 10.0, 25.0, 1.2
#: Candidates checked at once: bounds the memory a search takes (~50 bytes each).
BATCH_CANDIDATES = 2_000_000

_NONE = np.zeros(0, dtype=np.int64)


class Hits(NamedTuple):
    """Matches found: query number, hash number in the index, distance in bits; sorted by query then hash."""

    query: np.ndarray
    item: np.ndarray
    distance: np.ndarray


def hex_to_words(hexes: Sequence[str]) -> np.ndarray:
    """Hex hashes (all the same length, a multiple of 16 digits) as an N×words uint64 array."""
    if len(hexes) == 0:
        raise ValueError("no hashes given")
    lengths = {len(h) for h in hexes}
    if len(lengths) != 1 or next(iter(lengths)) % 16:
        raise ValueError(f"hashes must all have the same length, a multiple of 64 bits; got {sorted(lengths)} digits")
    raw = bytes.fromhex("".join(hexes))
    return np.frombuffer(raw, dtype=">u8").astype(np.uint64).reshape(len(hexes), -1)


def words_to_hex(words: np.ndarray) -> list[str]:
    """The inverse of hex_to_words."""
    raw = np.ascontiguousarray(words, dtype=">u8").tobytes()
    step = words.shape[1] * 8
    return [raw[i:i + step].hex() for i in range(0, len(raw), step)]


def _as_words(hashes: np.ndarray | Sequence[str]) -> np.ndarray:
    """Hashes as an N×words uint64 array, from hex strings or words."""
    if isinstance(hashes, np.ndarray):
        if hashes.ndim != 2 or hashes.dtype != np.uint64:
            raise ValueError(f"hash words must be an N×words uint64 array, not {hashes.dtype} of shape {hashes.shape}")
        return hashes
    return hex_to_words(list(hashes))


def _sorted_hits(query: np.ndarray, item: np.ndarray, dist: np.ndarray, items: int) -> Hits:
    """Hits without repeats, ordered by query then item."""
    key = query.astype(np.int64) * items + item
    key, first = np.unique(key, return_index=True)
    return Hits(key // items, key % items, dist[first].astype(np.int32))


def brute_force_search(hashes: np.ndarray, queries: np.ndarray, max_distance: int, block: int = 16384) -> Hits:
    """Every (query, hash) pair within max_distance by comparing each query with every hash: the reference.

    Blocks of hashes word by word against 64 queries at a time (a word-major block keeps every pass over
    contiguous memory: ~4× faster than one query against all rows)."""
    found: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for start in range(0, len(hashes), block):
        columns = np.ascontiguousarray(hashes[start:start + block].T)
        for q0 in range(0, len(queries), 64):
            batch = queries[q0:q0 + 64]
            dist = np.zeros((len(batch), columns.shape[1]), dtype=np.uint16)
            for w, column in enumerate(columns):
                dist += np.bitwise_count(batch[:, w, None] ^ column[None, :])
            q, i = np.nonzero(dist <= max_distance)
            found.append((q + q0, i + start, dist[q, i]))
    q, i, d = (np.concatenate(parts) for parts in zip(*found, strict=True)) if found else (_NONE, _NONE, _NONE)
    return _sorted_hits(q, i, d, len(hashes))


def _layout(bits: int, count: int) -> list[tuple[int, int]]:
    """(first bit, length) of each piece: about log2(count) bits each, as equal as can be."""
    target = min(max(int(np.log2(max(count, 2))), PIECE_BITS[0]), PIECE_BITS[1])
    pieces = max(-(-bits // PIECE_BITS[1]), round(bits / target))
    lengths = [bits // pieces + (p < bits % pieces) for p in range(pieces)]
    return [(sum(lengths[:p]), length) for p, length in enumerate(lengths)]


def _piece(columns: np.ndarray, first: int, length: int) -> np.ndarray:
    """Bits first..first+length-1 (0 = the most significant) of word-major hashes, as integers."""
    word, offset = divmod(first, 64)
    if offset + length <= 64:
        value = columns[word] >> np.uint64(64 - offset - length)
    else:
        low = offset + length - 64  # the piece runs on into the next word
        value = (columns[word] << np.uint64(low)) | (columns[word + 1] >> np.uint64(64 - low))
    return (value & np.uint64((1 << length) - 1)).astype(np.int64)


@lru_cache(maxsize=64)
def _flips(length: int, radius: int) -> np.ndarray:
    """Every `length`-bit XOR mask with at most `radius` bits set: what reaches the keys near a piece."""
    masks = [sum(1 << b for b in bits)
             for k in range(min(radius, length) + 1) for bits in combinations(range(length), k)]
    return np.array(masks, dtype=np.int64)


def _reach(length: int, radius: int) -> int:
    """How many keys lie within `radius` bits of a `length`-bit key."""
    return sum(comb(length, k) for k in range(min(radius, length) + 1)) if radius >= 0 else 0


class HashIndex:
    """Hashes of one kind and one decode size, searchable by Hamming distance (exact multi-index hashing).

    `hashes`: hex strings or an N×words uint64 array; `decode_side`: the decode size they were made at
    (vidlab.similarity records it), kept so that hashes from different decodes are never mixed.
    """

    def __init__(self, hashes: np.ndarray | Sequence[str], decode_side: int | None = None):
        words = _as_words(hashes)
        self.decode_side = decode_side
        self.bits = words.shape[1] * 64
        self._columns = np.ascontiguousarray(words.T)  # word-major: a candidate check reads one column at a time
        self._layout = _layout(self.bits, len(words))
        position = np.int32 if len(words) < 2**31 else np.int64
        self._order: list[np.ndarray] = []
        self._starts: list[np.ndarray] = []
        for first, length in self._layout:
            keys = _piece(self._columns, first, length)
            self._order.append(np.argsort(keys, kind="stable").astype(position))
            starts = np.zeros((1 << length) + 1, dtype=position)
            np.cumsum(np.bincount(keys, minlength=1 << length), out=starts[1:])
            self._starts.append(starts)

    def __len__(self) -> int:
        return self._columns.shape[1]

    @property
    def hashes(self) -> np.ndarray:
        """The indexed hashes, N×words (a view)."""
        return self._columns.T

    @property
    def pieces(self) -> int:
        """How many pieces each hash is cut into."""
        return len(self._layout)

    @property
    def piece_bits(self) -> list[int]:
        """The length of each piece in bits."""
        return [length for _, length in self._layout]

    @property
    def nbytes(self) -> int:
        """Memory the index holds: the hashes and the bucket tables."""
        return self._columns.nbytes + sum(o.nbytes + s.nbytes for o, s in zip(self._order, self._starts))

    def _radii(self, max_distance: int) -> list[int]:
        """Search radius per piece (-1: skip the piece) by the generalised pigeonhole principle."""
        r, a = divmod(max_distance, self.pieces)
        return [r if p <= a else r - 1 for p in range(self.pieces)]

    def search(self, queries: np.ndarray | Sequence[str], max_distance: int) -> Hits:
        """Every (query, hash) pair at most max_distance bits apart; exact, the same as brute_force_search.

        Radii so wide that probing would cost more than a scan (by the cost model above) are scanned."""
        queries = _as_words(queries)
        if queries.shape[1] * 64 != self.bits:
            raise ValueError(f"queries have {queries.shape[1] * 64} bits, the index holds {self.bits}-bit hashes")
        if max_distance < 0:
            raise ValueError(f"max_distance must be 0 or more, not {max_distance}")
        radii = self._radii(max_distance)
        probes = sum(_reach(length, r) for (_, length), r in zip(self._layout, radii))
        candidates = sum(_reach(length, r) * len(self) / 2**length for (_, length), r in zip(self._layout, radii))
        if probes * NS_PROBE + candidates * NS_CANDIDATE > len(self) * (self.bits // 64) * NS_SCANNED_WORD:
            return brute_force_search(self.hashes, queries, max_distance)
        step = max(1, int(BATCH_CANDIDATES // (probes + candidates)))
        found = [self._search_batch(np.ascontiguousarray(queries[q0:q0 + step].T), radii, max_distance, q0)
                 for q0 in range(0, len(queries), step)]
        q, i, d = (np.concatenate(parts) for parts in zip(*found, strict=True)) if found else (_NONE, _NONE, _NONE)
        return _sorted_hits(q, i, d, len(self))

    def _search_batch(self, queries: np.ndarray, radii: list[int], max_distance: int, first_query: int
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Candidates from the buckets near each piece of word-major `queries`, kept if close enough in full."""
        count = queries.shape[1]
        hit_q, hit_i, hit_d = [], [], []
        for p, ((first, length), radius) in enumerate(zip(self._layout, radii)):
            if radius < 0:
                continue
            flips = _flips(length, radius)
            keys = (_piece(queries, first, length)[:, None] ^ flips[None, :]).ravel()
            starts, sizes = self._starts[p][keys], self._starts[p][keys + 1] - self._starts[p][keys]
            full = sizes > 0
            starts, sizes = starts[full], sizes[full]
            owner = np.repeat(np.repeat(np.arange(count), len(flips))[full], sizes)
            offsets = np.cumsum(sizes) - sizes
            items = self._order[p][np.arange(offsets[-1] + sizes[-1] if len(sizes) else 0)
                                   - np.repeat(offsets - starts, sizes)]
            dist = np.zeros(len(items), dtype=np.int16)
            for w, column in enumerate(self._columns):
                dist += np.bitwise_count(column.take(items) ^ queries[w].take(owner))
                if w < len(self._columns) - 1 and w >= 1:  # half a PDQ hash rules out almost every stranger
                    near = dist <= max_distance
                    items, owner, dist = items[near], owner[near], dist[near]
            near = dist <= max_distance
            hit_q.append(owner[near] + first_query)
            hit_i.append(items[near])
            hit_d.append(dist[near])
        if not hit_q:
            return _NONE, _NONE, _NONE
        return np.concatenate(hit_q), np.concatenate(hit_i), np.concatenate(hit_d)

    def pairs_within(self, max_distance: int) -> Hits:
        """Every pair of hashes in the index at most max_distance apart, once each (query < item): the
        near-duplicate graph that series clustering builds on."""
        hits = self.search(np.ascontiguousarray(self.hashes), max_distance)
        keep = hits.query < hits.item
        return Hits(hits.query[keep], hits.item[keep], hits.distance[keep])
