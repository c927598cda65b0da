"""Text-quality measures shared by tests and benchmarks."""

from __future__ import annotations


def squash(text: str) -> str:
    """Text without any whitespace."""
    return "".join(text.split())


def cer(expected: str, got: str) -> float:
    """Character error rate: Levenshtein distance / reference length, whitespace ignored."""
    a, b = squash(expected), squash(got)
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
        prev = cur
    return prev[-1] / max(1, len(a))
