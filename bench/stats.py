# SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
"""Values per round, and what is reported of them: medians and spreads.

A ratio is taken round by round (each round measures every condition once,
back to back) and then summarised, so that the drift of a noisy machine
between rounds cancels out instead of piling up.
"""
import collections
import statistics


class Summary:
    """Median and spread of a list of values: the range (min–max) for a few
    rounds, or with quartiles=True the middle half (25th–75th percentile)
    for thousands of turns, whose extremes say nothing."""

    def __init__(self, values, quartiles=False):
        if not values:
            raise ValueError("no values to summarise")
        self.values = list(values)
        self.median = statistics.median(values)
        if quartiles and len(values) >= 4:
            q = statistics.quantiles(values, n=4)
            self.lo, self.hi = q[0], q[2]
        else:
            self.lo, self.hi = min(values), max(values)

    def fmt(self, scale=1.0, digits=1):
        return (f"{self.median * scale:.{digits}f} "
                f"({self.lo * scale:.{digits}f}–{self.hi * scale:.{digits}f})")


class Series:
    """values[(condition key, measure key)] = [one value per round]."""

    def __init__(self, quartiles=False):
        self.values = collections.defaultdict(list)
        self.quartiles = quartiles

    def add(self, cond, measure, value):
        self.values[(cond, measure)].append(value)

    def has(self, cond, measure):
        return bool(self.values.get((cond, measure)))

    def summary(self, cond, measure):
        return Summary(self.values[(cond, measure)], self.quartiles)

    def ratio(self, cond, base, measure):
        """cond / base, round by round, summarised."""
        pairs = zip(self.values[(cond, measure)], self.values[(base, measure)])
        return Summary([c / b for c, b in pairs], self.quartiles)
