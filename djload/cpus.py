"""CPU lists as taskset writes them ("0", "1-3", "0,2"), and the one check that a list is usable here."""

import os
from collections.abc import Iterable

from djload.yamlcheck import shown

# Linux numbers CPUs below its NR_CPUS, at most 8192: a larger number is a typo, and checking it must not
# first build a range of billions.
MAX_CPU = 8191


def parse_cpus(text: str) -> tuple[int, ...]:
    """A CPU list as taskset writes it ("0", "1-3", "0,2"); ValueError when it is not one."""
    cpus: set[int] = set()
    for part in str(text).split(","):
        low, _, high = part.strip().partition("-")
        first, last = int(low), int(high or low)
        if first < 0 or last < first or last > MAX_CPU:
            raise ValueError(part)
        cpus.update(range(first, last + 1))
    return tuple(sorted(cpus))


def cpu_list(cpus: Iterable[int]) -> str:
    return ",".join(str(cpu) for cpu in cpus)


def usable() -> tuple[int, ...]:
    """The CPUs this process may run on (and so may pin its children to)."""
    return tuple(sorted(os.sched_getaffinity(0)))


def checked(value: object) -> tuple[int, ...]:
    """The CPUs of a list given in a scenario or on the command line; ValueError saying what is wrong."""
    try:
        if isinstance(value, bool):  # YAML's yes/no: not a CPU number
            raise ValueError(value)
        cpus = parse_cpus(str(value))
    except ValueError:
        raise ValueError(f"must be a CPU list like 0, 1-3 or 0,2; got {shown(value)}") from None
    here = usable()
    outside = [cpu for cpu in cpus if cpu not in here]
    if outside:
        raise ValueError(f"CPU {cpu_list(outside)} is not available here; usable: {cpu_list(here)}")
    return cpus
