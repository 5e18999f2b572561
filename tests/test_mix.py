"""The weighted order of a mix: exact per user, spread out, reproducible."""

import itertools
from collections import Counter

import pytest

from djload import mix


def test_each_user_sends_exactly_its_share_when_the_count_is_a_multiple_of_the_weights() -> None:
    for user in range(10):
        assert Counter(mix.order([2, 1, 3], 6, user)) == {0: 2, 1: 1, 2: 3}
        assert Counter(mix.order([2, 1, 3], 12, user)) == {0: 4, 1: 2, 2: 6}
    assert mix.totals([2, 1, 3], 6, 10) == [20, 10, 30]


def test_a_cycle_spreads_entries_out() -> None:
    assert mix.cycle([2, 1, 3]) == [2, 0, 1, 2, 0, 2]
    assert mix.cycle([1, 1, 1]) == [0, 1, 2]
    assert mix.cycle([5]) == [0] * 5


def test_users_start_at_different_places_of_the_cycle() -> None:
    firsts = [mix.order([2, 1, 3], 6, user)[0] for user in range(6)]
    assert Counter(firsts) == {0: 2, 1: 1, 2: 3}  # at the first moment the mix is already the weights'
    assert mix.order([2, 1, 3], 6, 1) == mix.order([2, 1, 3], 6, 7)  # the same user, the same order


def test_a_count_that_is_not_a_multiple_stays_within_two_of_the_share() -> None:
    for weights in itertools.product(range(1, 6), repeat=3):
        total = sum(weights)
        for count, user in itertools.product(range(1, 2 * total), range(total)):
            sent = Counter(mix.order(weights, count, user))
            for index, weight in enumerate(weights):
                assert abs(sent[index] - count * weight / total) < 2, (weights, count, user)


def test_over_a_multiple_of_the_cycle_in_users_the_totals_are_exact() -> None:
    # 7 requests per user of 2:1:3 is not a multiple of 6, but 12 users cover the cycle twice.
    assert mix.totals([2, 1, 3], 7, 12) == [28, 14, 42]
    assert sum(mix.totals([2, 1, 3], 7, 5)) == 35


@pytest.mark.parametrize("weights", [[], [1, 0], [2, -1]])
def test_weights_must_be_positive(weights: list[int]) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        mix.cycle(weights)
