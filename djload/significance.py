"""Two-sample significance tests, small and exact enough for comparing runs (no scipy needed).

- Mann-Whitney U on per-request latencies: does one run's latency distribution sit above the other's?
  No assumption on the distribution's shape (latencies are skewed and often bimodal); the normal
  approximation with tie correction and continuity correction is good from about 8 samples a side.
- Welch's t-test on the values of repeated runs (``--repeat`` ≥ 3 on both sides): do the runs' means
  differ, given each side's own spread? The p-value comes from Student's t distribution via the
  regularized incomplete beta function.
"""

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

ALPHA = 0.05  # a change is significant when a test's two-sided p-value is below this


@dataclass(frozen=True)
class Test:
    name: str  # which test, in words for the output
    p_value: float
    detail: str  # sample sizes and the statistic

    @property
    def significant(self) -> bool:
        return self.p_value < ALPHA

    def describe(self) -> str:
        return f"{self.name} ({self.detail}): p = {self.p_value:.3g}"


def mann_whitney_u(old: Sequence[float], new: Sequence[float]) -> Test:
    """Two-sided Mann-Whitney U test, normal approximation with tie and continuity corrections."""
    name = "Mann-Whitney U on per-request latencies"
    n1, n2 = len(old), len(new)
    if not n1 or not n2:
        return Test(name, 1.0, f"n = {n1} vs {n2}")
    pooled = sorted([(value, 0) for value in old] + [(value, 1) for value in new])
    rank_sum_old, ties, i = 0.0, 0.0, 0
    while i < len(pooled):
        j = i
        while j + 1 < len(pooled) and pooled[j + 1][0] == pooled[i][0]:
            j += 1
        rank = (i + j) / 2 + 1  # the average rank of a run of equal values
        rank_sum_old += rank * sum(1 for k in range(i, j + 1) if pooled[k][1] == 0)
        count = j - i + 1
        ties += count**3 - count
        i = j + 1
    u = rank_sum_old - n1 * (n1 + 1) / 2
    n = n1 + n2
    variance = n1 * n2 / 12 * ((n + 1) - ties / (n * (n - 1)))
    if variance <= 0:  # every value equal
        return Test(name, 1.0, f"n = {n1} vs {n2}, all equal")
    z = max(0.0, abs(u - n1 * n2 / 2) - 0.5) / math.sqrt(variance)
    return Test(name, math.erfc(z / math.sqrt(2)), f"n = {n1} vs {n2}, U = {u:g}, z = {z:.2f}")


def welch_t(old: Sequence[float], new: Sequence[float]) -> Test:
    """Two-sided Welch's t-test: unequal variances, Welch-Satterthwaite degrees of freedom."""
    name = "Welch's t-test on the repeated runs"
    n1, n2 = len(old), len(new)
    if n1 < 2 or n2 < 2:
        return Test(name, 1.0, f"n = {n1} vs {n2}: too few runs")
    mean1, mean2 = statistics.fmean(old), statistics.fmean(new)
    var1, var2 = statistics.variance(old) / n1, statistics.variance(new) / n2
    if var1 + var2 == 0:
        return Test(name, 1.0 if mean1 == mean2 else 0.0, f"n = {n1} vs {n2}, no spread")
    t = (mean2 - mean1) / math.sqrt(var1 + var2)
    df = (var1 + var2) ** 2 / (var1**2 / (n1 - 1) + var2**2 / (n2 - 1))
    p = incomplete_beta(df / 2, 0.5, df / (df + t * t))
    return Test(name, min(1.0, p), f"runs = {n1} vs {n2}, t = {t:.2f}, df = {df:.1f}")


def incomplete_beta(a: float, b: float, x: float) -> float:
    """The regularized incomplete beta function I_x(a, b), by its continued fraction (Lentz's method)."""
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1) / (a + b + 2):
        return front * _fraction(a, b, x) / a
    return 1.0 - front * _fraction(b, a, 1.0 - x) / b


def _fraction(a: float, b: float, x: float) -> float:
    tiny = 1e-300
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 500):
        for numerator in (m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
                          -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))):  # fmt: skip
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + numerator / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1.0) < 1e-14:
            break
    return h
