#!/usr/bin/python3
"""Writes the pair list of the identity-balance benchmark (bench/bench_balance).

Every pair of the single-face portraits of ../shared/faces, then 100 pairs of
different portraits from ../shared/faces/portraits drawn with a fixed seed, one
`A<TAB>B` line each (paths relative to the faces folder).

usage: /usr/bin/python3 scripts/make_balance_pairs.py [FACES_DIR] > pairs.tsv
"""
import itertools
import os
import random
import sys

SET_A = ["congress_A000370_hat.jpg", "congress_C000537_glasses_older.jpg", "congress_C001080.jpg",
         "congress_E000295_large_3884x4920.jpg", "congress_K000389_flag.jpg", "congress_N000179_older.jpg",
         "congress_N000189_beard_glasses.jpg", "congress_O000173_headscarf.jpg", "congress_S001223_glasses.jpg",
         "nasa_astronaut_portrait.png", "nara_1879_grayscale_large.jpg"]


def main():
    faces = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..", "shared",
                                                                "faces")
    pairs = list(itertools.combinations(SET_A, 2))
    portraits = sorted(f for f in os.listdir(os.path.join(faces, "portraits")) if f.endswith(".jpg"))
    all_pairs = list(itertools.combinations(portraits, 2))
    rng = random.Random(20261206)
    pairs += [(f"portraits/{a}", f"portraits/{b}") for a, b in rng.sample(all_pairs, 100)]
    for a, b in pairs:
        print(f"{a}\t{b}")


if __name__ == "__main__":
    main()
