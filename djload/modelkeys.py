"""A scenario's `values: {name: {model: app.Model}}`, filled with the model's primary keys before its swarm.

Read once the project's setup has run (its migrations and fixtures made the rows), in a subprocess with the
project's settings and environment, as its server runs (djload.project.keys). The keys reach locust inside
the mix, on its command line, where Linux takes at most 128 KiB per argument: the values.MAX_VALUES keys
are shared among the mix's model placeholders, and so are the bytes the mix may take (long keys, such
as UUIDs, are fewer): the first keys in primary-key order.
"""

import json
from collections.abc import Sequence
from dataclasses import replace

from djload import project, usersite, values
from djload.scenario import Scenario


class KeysError(Exception):
    """The keys could not be read (the project did not import, the model has no rows): the run fails before
    its swarm."""


def labels(scenario: Scenario) -> list[str]:
    """The models the scenario's mix reads keys from, each once."""
    return sorted({model.label for request in scenario.requests for model in values.models(request.values)})


def filled(scenario: Scenario) -> Scenario:
    """The scenario with every model placeholder's values read from the project's database."""
    wanted = labels(scenario)
    if not wanted:
        return scenario
    placeholders = sum(len(values.models(request.values)) for request in scenario.requests)
    site = scenario.site
    try:
        keys = project.keys(site.folder, site.settings, wanted, dict(site.env), limit=values.MAX_VALUES // placeholders)
    except project.ProjectError as exc:
        raise KeysError(f"values: {exc}") from None
    written = len(json.dumps([request.as_json() for request in scenario.requests], separators=(",", ":")))
    share = max(0, usersite.MAX_MIX_BYTES - written) // placeholders
    keys = {label: _within(found, share) for label, found in keys.items()}
    return replace(
        scenario, requests=tuple(replace(r, values=values.with_keys(r.values, keys)) for r in scenario.requests)
    )


def _within(keys: Sequence[str], size: int) -> list[str]:
    """The first keys that take at most size bytes written out as JSON strings (at least one)."""
    taken: list[str] = []
    for key in keys:
        size -= len(json.dumps(key)) + 1
        if size < 0 and taken:
            break
        taken.append(key)
    return taken
