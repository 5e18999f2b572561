"""Matrix files: one scenario file → one mapping of scenario fields per combination of its axes.

``matrix:`` maps a dotted field name (``server.mode``, ``endpoint.query.times``) to a list of values; a
value may also be a mapping merged into that field (``server: [{mode: wsgi-gthread, threads: 4}]``).
Every combination of the axes becomes one variant, named after the file and the values, except those
matching an entry of ``exclude:`` (a list of mappings of dotted field names). An entry of ``include:``
sets its other fields on the combinations that match its matrix fields, e.g. fewer requests where each
one is slow: ``{endpoint.query.times: 1000000, swarm.requests_per_user: 10}``.

Expansion works on the YAML mappings, lines included, so that each variant is checked like a plain
file and its problems point at the matrix line that set the value.
"""

import itertools
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from djload.yamlcheck import Checker, Map, ScenarioError, Seq, new_map, shown

RULES = ("exclude", "include")  # the matrix's keys that are not axes


@dataclass(frozen=True)
class Variant:
    """One combination: the scenario's fields, the file's group name, and each axis with its value label."""

    fields: Map
    group: str
    labels: tuple[tuple[str, str], ...]


def _copy(value: Any) -> Any:
    if isinstance(value, Map):
        copy = Map({key: _copy(item) for key, item in value.items()})
        copy.line, copy.key_lines = value.line, dict(value.key_lines)
        return copy
    if isinstance(value, list):
        return [_copy(item) for item in value]
    return value


def _assign(mapping: Map, key: str, value: Any, line: int, checker: Checker, where: str) -> None:
    """Set a dotted field; a mapping value is merged field by field. Lines point at the matrix."""
    *parents, last = key.split(".")
    for part in parents:
        if part not in mapping:
            mapping[part], mapping.key_lines[part] = new_map(line), line
        if not isinstance(mapping[part], Map):
            checker.problem(line, where, f"cannot set '{key}': '{part}' is not a mapping")
            return
        mapping = mapping[part]
    if isinstance(value, Map):
        if last not in mapping or not isinstance(mapping[last], Map):
            mapping[last], mapping.key_lines[last] = new_map(line), line
        for sub_key, sub_value in value.items():
            _assign(mapping[last], str(sub_key), sub_value, value.key_lines[sub_key], checker, where)
        return
    mapping[last], mapping.key_lines[last] = value, line


def _lookup(mapping: Any, key: str) -> Any:
    for part in key.split("."):
        if not isinstance(mapping, dict) or part not in mapping:
            return ...
        mapping = mapping[part]
    return mapping


def _label(key: str, value: Any) -> str:
    """A short, file-name-safe label: ``wsgi``, ``async-non-blocking``, ``workers2``, ``times1000``."""
    if isinstance(value, dict):
        return "-".join(_label(str(k), v) for k, v in value.items())
    if isinstance(value, bool | int | float):
        number = str(value) if isinstance(value, bool | int) else f"{value:g}"
        return key.rsplit(".", 1)[-1] + number
    return re.sub(r"[^A-Za-z0-9.]+", "-", str(value)).strip("-") or "empty"


def combinations(data: Map) -> int:
    """How many combinations the file's matrix has (before exclude), counted without expanding it."""
    matrix = data.get("matrix")
    if not isinstance(matrix, Map):
        return 1
    axes = [values for key, values in matrix.items() if key not in RULES]
    return math.prod(len(values) for values in axes if isinstance(values, Seq) and values)


def expand(data: Map, source: str, limit: int, lift: str) -> tuple[list[Variant], list[str]]:
    """Every combination of the file's matrix, and the problems found while expanding it.

    A matrix that cannot be expanded at all, or that has more than limit combinations, raises
    ScenarioError (naming lift, the way to allow more); problems of single combinations (a value that
    cannot be set, a rule that matches nothing) are returned beside the variants.
    """
    checker = Checker(source)
    matrix = checker.mapping(data["matrix"], data.key_lines["matrix"], "matrix")
    if matrix is None:
        raise ScenarioError(checker.problems)
    axes: list[tuple[str, list[tuple[Any, int]]]] = []
    rules: dict[str, list[tuple[Map, int]]] = {rule: [] for rule in RULES}
    for key, values in matrix.items():
        line = matrix.key_lines[key]
        if key in rules:
            if not isinstance(values, Seq) or not all(isinstance(v, Map) for v in values):
                checker.problem(line, f"matrix.{key}", "must be a list of mappings of dotted field names to values")
            else:
                rules[key] = list(zip(values, values.item_lines, strict=True))
            continue
        if not isinstance(values, Seq) or not values:
            checker.problem(line, f"matrix.{key}", f"must be a non-empty list of values, got {shown(values)}")
            continue
        axes.append((str(key), list(zip(values, values.item_lines, strict=True))))
    if not axes:
        checker.problem(matrix.line, "matrix", "needs at least one field with a list of values")
    count = combinations(data)
    if count > limit:
        checker.problem(matrix.line, "matrix", f"{count:,} combinations; more than {limit:,} {lift}")
    axis_keys = [key for key, _ in axes]

    def on_axis(field: str) -> bool:
        return any(field == key or field.startswith(key + ".") for key in axis_keys)

    for rule, line in rules["include"]:
        if not any(on_axis(str(k)) for k in rule):
            checker.problem(
                line, "matrix.include", f"{shown(rule)} names no matrix field to match; one of " + ", ".join(axis_keys)
            )
    if checker.problems:
        raise ScenarioError(checker.problems)

    def matches(variant: Map, rule: Map, conditions: Callable[[str], bool]) -> bool:
        return all(_lookup(variant, str(k)) == v for k, v in rule.items() if conditions(str(k)))

    base = _copy(data)
    del base["matrix"]
    group = base.get("name") if isinstance(base.get("name"), str) and base.get("name") else Path(source).stem
    variants: list[Variant] = []
    used: set[tuple[str, int]] = set()
    for combination in itertools.product(*[[(key, value, line) for value, line in values] for key, values in axes]):
        variant = _copy(base)
        for key, value, line in combination:
            _assign(variant, key, value, line, checker, key)
        excluded = [
            ("exclude", i) for i, (rule, _) in enumerate(rules["exclude"]) if matches(variant, rule, lambda field: True)
        ]
        used.update(excluded)
        if excluded:
            continue
        for i, (rule, _) in enumerate(rules["include"]):
            if matches(variant, rule, on_axis):
                used.add(("include", i))
                for k, v in rule.items():
                    if not on_axis(str(k)):
                        _assign(variant, str(k), v, rule.key_lines[k], checker, str(k))
        labels = tuple((key, _label(key, value)) for key, value, _ in combination)
        variant["name"] = "-".join([group] + [label for _, label in labels])
        variant.key_lines["name"] = base.key_lines.get("name", data.key_lines["matrix"])
        variants.append(Variant(variant, group, labels))
    for kind, entries in rules.items():
        for i, (rule, line) in enumerate(entries):
            if (kind, i) not in used:
                checker.problem(line, f"matrix.{kind}", f"{shown(rule)} matches no combination of the matrix")
    return variants, checker.problems
