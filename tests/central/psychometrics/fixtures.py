"""Public reference data sets, written out as response-pattern counts (small, and exactly as published).

LSAT6 (= ltm's ``LSAT``): Law School Admission Test section 6, 1000 candidates, 5 items; Bock &
Lieberman (1970), Thissen (1982). Pattern counts as printed by ltm's ``factor.scores(ltm(LSAT ~ z1))``
(30 observed patterns; 01010 and 01100 never occur) and mirt's ``LSAT6`` data.

LSAT7: section 7, 1000 candidates, 5 items; Bock & Lieberman (1970); mirt's ``LSAT7`` data. Item
proportions correct .828 .658 .772 .606 .843 (mirt ``itemstats(expand.table(LSAT7))``).

ACTmath: Kolen & Brennan (2004/2014) Table 2.5, R equate's ``ACTmath``: frequencies of raw scores
0..40 on forms X (4329 candidates) and Y (4152). KB_TABLE_2_7: the same book's Table 2.7, form X
scores 1..40 equated to form Y by equipercentile equating.
"""

from __future__ import annotations

import numpy as np

LSAT6_COUNTS = {
    "00000": 3, "00001": 6, "00010": 2, "00011": 11, "00100": 1, "00101": 1, "00110": 3, "00111": 4,
    "01000": 1, "01001": 8, "01011": 16, "01101": 3, "01110": 2, "01111": 15, "10000": 10,
    "10001": 29, "10010": 14, "10011": 81, "10100": 3, "10101": 28, "10110": 15, "10111": 80,
    "11000": 16, "11001": 56, "11010": 21, "11011": 173, "11100": 11, "11101": 61, "11110": 28,
    "11111": 298,
}

LSAT7_COUNTS = {
    "00000": 12, "00001": 19, "00010": 1, "00011": 7, "00100": 3, "00101": 19, "00110": 3,
    "00111": 17, "01000": 10, "01001": 5, "01010": 3, "01011": 7, "01100": 7, "01101": 23,
    "01110": 8, "01111": 28, "10000": 7, "10001": 39, "10010": 11, "10011": 34, "10100": 14,
    "10101": 51, "10110": 15, "10111": 90, "11000": 6, "11001": 25, "11010": 7, "11011": 35,
    "11100": 18, "11101": 136, "11110": 32, "11111": 308,
}

ACT_X = [0, 1, 1, 3, 9, 18, 59, 67, 91, 144, 149, 192, 192, 192, 201, 204, 217, 181, 184, 170, 201,
         147, 163, 147, 140, 147, 126, 113, 100, 106, 107, 91, 83, 73, 72, 75, 50, 37, 38, 23, 15]
ACT_Y = [0, 1, 3, 13, 42, 59, 95, 131, 158, 161, 194, 164, 166, 197, 177, 158, 169, 132, 158, 151,
         134, 137, 122, 110, 116, 132, 104, 104, 114, 97, 107, 88, 80, 79, 70, 61, 48, 47, 29, 32, 12]
KB_TABLE_2_7 = [0.9796, 1.6462, 2.2856, 2.8932, 3.6205, 4.4997, 5.5148, 6.3124, 7.2242, 8.1607, 9.1827,
                10.1859, 11.2513, 12.3896, 13.3929, 14.5240, 15.7169, 16.8234, 18.0092, 19.1647, 20.3676,
                21.4556, 22.6871, 23.9157, 25.0292, 26.1612, 27.2633, 28.1801, 29.1424, 30.1305, 31.1297,
                32.1357, 33.0781, 34.0172, 35.1016, 36.2426, 37.1248, 38.1321, 39.0807, 39.9006]


def expand(counts: dict[str, int]) -> np.ndarray:
    """One row per candidate, in pattern order (as R's ``expand.table``)."""
    rows = [[int(c) for c in pattern] for pattern, n in counts.items() for _ in range(n)]
    return np.array(rows, dtype=np.uint8)


def item_ids(k: int = 5) -> list[str]:
    return [f"Item{j}" for j in range(1, k + 1)]
