"""A scenario's `values: {name: {model: app.Model}}`, filled with the model's primary keys before its swarm.

Read once the project's setup has run (its migrations and fixtures made the rows), in a subprocess with the
project's settings and environment, as its server runs (djload.project.keys). The keys reach locust inside
the mix, on its command line, where Linux takes at most 128 KiB per argument: the values.MAX_VALUES keys
are shared among the mix's model placeholders.
"""

from dataclasses import replace

from djload import project, values
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
    return replace(
        scenario, requests=tuple(replace(r, values=values.with_keys(r.values, keys)) for r in scenario.requests)
    )
