"""Placeholders in a mix entry's path, and the values they take in turn.

```yaml
- path: /books/{pk}/
  values: {pk: {model: library.Book}}   # primary keys read from the project's database after its setup
- path: /shop/items/{slug}/
  values: {slug: [red-shoe, blue-hat]}  # or a list
```

Request k of an entry (counted over all users, see `index`) takes value k mod n of each placeholder, so
that the counts stay exact: over users × k requests of an entry every value is sent the same number of
times when n divides that count, and never more than once more than another otherwise. A value is
percent-encoded before it goes into the path ('/', '?', '#', spaces and all): it is one segment, never
spliced into the path's structure. The entry keeps its templated path as its name (`/books/{pk}/`).

Only the parsing and the filling live here (the locust processes import it to fill paths); reading a
model's keys from the project's database is djload.project's, in a subprocess.
"""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from djload.yamlcheck import Checker, Map, shown

PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
MAX_VALUES = 10_000  # per placeholder: a list's length, and the most keys read from a model
# app_label.ModelName, as Django's apps.get_model takes it.
MODEL_LABEL = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*")
# What a model placeholder is replaced with while the path is resolved at load time, before the database is
# set up: an integer primary key, the default of Django's models.
SAMPLE_KEY = "1"


@dataclass(frozen=True)
class Model:
    """Values read from a model's primary keys once the project's setup ran."""

    label: str  # "store.Item"
    line: int = field(default=0, compare=False)
    where: str = field(default="", compare=False)  # "requests[2].values.pk.model"


Values = tuple[str, ...] | Model
Placeholders = tuple[tuple[str, Values], ...]


def names(path: str) -> list[str]:
    """The placeholders of a path, in order, each once."""
    return list(dict.fromkeys(PLACEHOLDER.findall(path)))


def _text(value: Any) -> str | None:
    return str(value) if isinstance(value, str | int | float) and not isinstance(value, bool) else None


def parse(checker: Checker, entry: Map, where: str, path: str | None) -> Placeholders:
    """The entry's `values:` against the placeholders of its path; every problem collected."""
    wanted = names(path or "")
    given = checker.get(entry, "values", dict, where, default=None)
    given = given if given is not None else {}
    # A matrix's copy of the file may hold plain mappings: their lines are the entry's.
    given_lines = getattr(given, "key_lines", {})
    found: list[tuple[str, Values]] = []
    for name, value in given.items():
        line, here = given_lines.get(name, entry.line), f"{where}values.{name}"
        if name not in wanted:
            used = ", ".join("{" + n + "}" for n in wanted) or "none"
            checker.problem(line, here, f"is never used: the path's placeholders are {used}")
        elif isinstance(value, list):
            texts = [_text(item) for item in value]
            if not value or len(value) > MAX_VALUES:
                checker.problem(line, here, f"must be a list of 1 to {MAX_VALUES:,} values, got {len(value):,}")
            elif None in texts or "" in texts:
                bad = next(item for item, text in zip(value, texts, strict=True) if not text)
                checker.problem(line, here, f"each value must be a non-empty string or number, got {shown(bad)}")
            else:
                found.append((name, tuple(text for text in texts if text)))
        elif isinstance(value, dict) and set(value) == {"model"}:
            label = value["model"]
            model_line = getattr(value, "key_lines", {}).get("model", line)
            if not isinstance(label, str) or not MODEL_LABEL.fullmatch(label):
                problem = f"must be app_label.Model, e.g. store.Item, got {shown(label)}"
                checker.problem(model_line, here + ".model", problem)
            else:
                found.append((name, Model(label, model_line, here + ".model")))
        else:
            checker.problem(line, here, f"must be a list of values or {{model: app_label.Model}}, got {shown(value)}")
    for name in wanted:
        if name not in given:
            line = entry.key_lines.get("path", entry.line)
            checker.problem(line, where + "path", f"{{{name}}} has no values: add values: {{{name}: [a, b]}} "
                                                  f"or {{{name}: {{model: app_label.Model}}}}")  # fmt: skip
    return tuple(found)


def models(placeholders: Placeholders) -> list[Model]:
    return [value for _, value in placeholders if isinstance(value, Model)]


def sample(path: str, placeholders: Placeholders) -> str:
    """The path with each placeholder's first value (a model's: SAMPLE_KEY): what the URL check resolves."""
    first = {name: SAMPLE_KEY if isinstance(value, Model) else value[0] for name, value in placeholders}
    return fill(path, {name: [text] for name, text in first.items()}, 0)


def first(path: str, placeholders: Placeholders) -> str | None:
    """The path with each placeholder's first value; None while a model's keys are not read yet."""
    if models(placeholders):
        return None
    return fill(path, {name: value for name, value in placeholders if not isinstance(value, Model)}, 0)


def fill(path: str, values: Mapping[str, Sequence[str]], index: int) -> str:
    """The path with each placeholder's value number index mod n, percent-encoded."""
    if not values:
        return path
    return PLACEHOLDER.sub(lambda m: quote(_pick(values[m.group(1)], index), safe=""), path)


def _pick(values: Sequence[str], index: int) -> str:
    return values[index % len(values)]


def index(user: int, users: int, sent: int) -> int:
    """Which value a user's request number `sent` of an entry takes: user u sends u, u + U, u + 2U, … (U users).

    At each round every user takes a value of its own, and over the run the users together walk the values
    in order without a gap: U users × k requests cover values 0 … U·k − 1 (mod n) once each.
    """
    return user + sent * max(users, 1)


def with_keys(placeholders: Placeholders, keys: Mapping[str, Sequence[str]]) -> Placeholders:
    """The placeholders with each model's keys (read from the project's database) as its values."""
    return tuple(
        (name, tuple(keys[value.label]) if isinstance(value, Model) else value) for name, value in placeholders
    )
