"""The order in which each user sends a weighted mix of requests: exact and reproducible, not random.

One cycle is nginx's smooth weighted round-robin over the weights: at each pick every entry's credit
grows by its weight, the entry with the most credit is sent and pays back the sum of the weights (ties
go to the earlier entry). A cycle is sum(weights) picks long, holds each entry exactly `weight` times,
and spreads them out (2:1:3 gives C A B C A C, not A A B C C C).

User u walks the cycle from position u (mod the cycle's length) and around it, so users do not all send
the same entry at the same moment. Hence, for n requests per user and a cycle of length S:

- n a multiple of S: every user sends exactly n·w/S of an entry of weight w (2:1:3, n = 6: 2, 1, 3);
- otherwise n = q·S + r: a user sends q·w plus what a window of r consecutive picks holds, which stays
  within 2 of r·w/S; over a number of users that is a multiple of S the windows cover the cycle evenly, so
  the totals are exact again (users·n·w/S).
"""

import functools
from collections.abc import Sequence


def cycle(weights: Sequence[int]) -> list[int]:
    """One smooth weighted round-robin cycle: entry indexes, each one `weight` times."""
    return list(_cycle(tuple(weights)))


@functools.lru_cache(maxsize=8)
def _cycle(weights: tuple[int, ...]) -> tuple[int, ...]:
    # Every user of a process walks the same cycle: made once, not once per user.
    if not weights or any(weight < 1 for weight in weights):
        raise ValueError(f"weights must be whole numbers of at least 1, got {list(weights)}")
    total = sum(weights)
    credit = [0] * len(weights)
    picks: list[int] = []
    for _ in range(total):
        for index, weight in enumerate(weights):
            credit[index] += weight
        chosen = max(range(len(weights)), key=lambda index: (credit[index], -index))
        credit[chosen] -= total
        picks.append(chosen)
    return tuple(picks)


def order(weights: Sequence[int], count: int, user: int) -> list[int]:
    """The entry indexes user number `user` (0, 1, …) sends, in order, for `count` requests."""
    picks = _cycle(tuple(weights))
    start = user % len(picks)
    return [picks[(start + step) % len(picks)] for step in range(count)]


def totals(weights: Sequence[int], count: int, users: int) -> list[int]:
    """How many requests of each entry `users` users send, `count` each."""
    sent = [0] * len(weights)
    for user in range(users):
        for index in order(weights, count, user):
            sent[index] += 1
    return sent
