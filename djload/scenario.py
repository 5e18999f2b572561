"""Scenario files (YAML) → validated, frozen Scenario objects.

Every problem in a file is reported, one line each, as ``file:line: field: what is wrong``, so a
person can fix them all in one go.
"""

import difflib
import itertools
import math
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
SITE_URLS = ROOT / "site" / "django_adjango" / "urls.py"


class ScenarioError(Exception):
    """One or more problems in scenario files; ``problems`` holds one line for each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Server:
    mode: str
    workers: int = 1
    threads: int = 1


@dataclass(frozen=True)
class Endpoint:
    path: str
    query: tuple[tuple[str, str], ...] = ()

    @property
    def query_string(self) -> str:
        return "&".join(f"{key}={value}" for key, value in self.query)

    @property
    def url_path(self) -> str:
        return self.path + "?" + self.query_string if self.query else self.path


USER_CLASSES = ("fast", "http")  # locust's FastHttpUser and HttpUser
MODELS = ("closed", "open")


@dataclass(frozen=True)
class Swarm:
    users: int
    requests_per_user: int = 1
    spawn_rate: float = 0.0  # 0 means all users at once
    timeout_s: float = 60.0
    processes: int = 1  # load-generating processes: 1 is Locust's local runner, N > 1 a master and N workers
    # A throughput run (one given a duration) defaults to FastHttpUser, a fixed count to HttpUser.
    user_class: str = "http"
    duration_s: float | None = None  # run for this long instead of a request count
    model: str = "closed"
    rate: float | None = None  # open model: requests per second, sent at fixed times
    warmup: int = 0  # requests sent before the measured run, not counted

    @property
    def total_requests(self) -> int | None:
        """Requests the run must record; None when only its duration is fixed (a closed throughput run)."""
        if self.model == "open":
            assert self.rate is not None and self.duration_s is not None
            return round(self.rate * self.duration_s)
        if self.duration_s is not None:
            return None
        return self.users * self.requests_per_user

    @property
    def effective_spawn_rate(self) -> float:
        return self.spawn_rate or float(self.users)


@dataclass(frozen=True)
class Placement:
    """CPUs the server and the load generator may run on; empty means every CPU (no pinning)."""

    server: tuple[int, ...] = ()
    generator: tuple[int, ...] = ()

    @property
    def pinned(self) -> bool:
        return bool(self.server or self.generator)


def parse_cpus(text: str) -> tuple[int, ...]:
    """A CPU list as taskset writes it ("0", "1-3", "0,2"); ValueError when it is not one."""
    cpus: set[int] = set()
    for part in str(text).split(","):
        low, _, high = part.strip().partition("-")
        first, last = int(low), int(high or low)
        if first < 0 or last < first:
            raise ValueError(part)
        cpus.update(range(first, last + 1))
    return tuple(sorted(cpus))


def cpu_list(cpus: Iterable[int]) -> str:
    return ",".join(str(cpu) for cpu in cpus)


@dataclass(frozen=True)
class Scenario:
    name: str
    server: Server
    endpoint: Endpoint
    swarm: Swarm
    cpus: Placement = Placement()
    sleep: float = 2.0
    description: str = ""
    expected: dict[str, float] = field(default_factory=dict)
    source: str = ""
    # For a scenario expanded from a matrix: the file's name, and each axis with this run's value label.
    group: str = ""
    matrix: tuple[tuple[str, str], ...] = ()


def site_endpoints() -> list[str]:
    """The site's URL paths, read from its urls.py so that the list lives in one place."""
    return ["/" + route for route in re.findall(r'path\("([^"]*)"', SITE_URLS.read_text())]


NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
# Upper bounds catch typos (an extra zero or three) before they start a runaway run.
MAX_SECONDS = 3600.0
MAX_WORKERS = 64
MAX_THREADS = 1000
MAX_USERS = 100_000
MAX_REQUESTS_PER_USER = 1_000_000

EXPECTED_KEYS = (
    "completed_requests",
    "total_errors",
    "total_time_s",
    "mean_latency_ms",
    "effective_rps",
)


class _Map(dict[str, Any]):
    """A YAML mapping that remembers the line of each key (1-based)."""

    line: int = 0
    key_lines: dict[str, int]


class _Loader(yaml.SafeLoader):
    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicates: list[tuple[int, str]] = []  # (line, key): YAML itself lets the last one win


def _construct_map(loader: _Loader, node: yaml.MappingNode) -> _Map:
    loader.flatten_mapping(node)
    mapping = _Map()
    mapping.line = node.start_mark.line + 1
    mapping.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in mapping:
            loader.duplicates.append((key_node.start_mark.line + 1, str(key)))
        mapping[key] = loader.construct_object(value_node, deep=True)
        mapping.key_lines[key] = key_node.start_mark.line + 1
    return mapping


class _Seq(list[Any]):
    """A YAML list that remembers the line of each item (1-based)."""

    item_lines: list[int]


def _construct_seq(loader: _Loader, node: yaml.SequenceNode) -> _Seq:
    sequence = _Seq(loader.construct_object(item, deep=True) for item in node.value)
    sequence.item_lines = [item.start_mark.line + 1 for item in node.value]
    return sequence


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_map)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_seq)


def _type_name(kind: type | tuple[type, ...]) -> str:
    names = {int: "an integer", float: "a number", str: "a string", dict: "a mapping", bool: "true or false"}
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return names.get(kinds[0], kinds[0].__name__)


class _Checker:
    """Collects problems while reading one file's mappings."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[str] = []

    def problem(self, line: int, where: str, text: str) -> None:
        self.problems.append(f"{self.source}:{line}: {where}: {text}")

    def mapping(self, value: Any, line: int, where: str) -> _Map | None:
        if isinstance(value, _Map):
            return value
        self.problem(line, where, f"must be a mapping, got {value!r}")
        return None

    def section(self, data: _Map, key: str, fields: str) -> _Map | None:
        if key not in data:
            self.problem(data.line, key, f"missing; it must be a mapping with {fields}")
            return None
        return self.mapping(data[key], data.key_lines[key], key)

    def query(self, mapping: _Map, prefix: str) -> dict[str, str]:
        """Query parameters: names to plain values; the site reads `times`, a whole number."""
        value = self.get(mapping, "query", dict, prefix, default={})
        query: dict[str, str] = {}
        for key, item in (value or {}).items():
            line = value.key_lines[key]
            if not isinstance(item, str | int | float) or isinstance(item, bool):
                self.problem(line, f"{prefix}query.{key}", f"must be a string or a number, got {item!r}")
            elif key == "times" and not (isinstance(item, int) and item >= 0):
                self.problem(line, f"{prefix}query.times", f"must be a whole number of at least 0, got {item!r}")
            else:
                query[str(key)] = str(item)
        return query

    def known_keys(self, mapping: _Map, allowed: Iterable[str], prefix: str) -> None:
        allowed = list(allowed)
        for key in mapping:
            if key in allowed:
                continue
            close = difflib.get_close_matches(str(key), allowed, n=1)
            hint = f"did you mean '{close[0]}'?" if close else "allowed: " + ", ".join(allowed)
            self.problem(mapping.key_lines[key], f"{prefix}{key}", f"unknown key; {hint}")

    def get(
        self,
        mapping: _Map,
        key: str,
        kind: type,
        prefix: str = "",
        *,
        default: Any = ...,
        check: Callable[[Any], str | None] | None = None,
    ) -> Any:
        where = prefix + key
        if key not in mapping:
            if default is ...:
                self.problem(mapping.line, where, f"missing; it must be {_type_name(kind)}")
            return None if default is ... else default
        value = mapping[key]
        line = mapping.key_lines[key]
        # YAML reads 2 as an int; a float field takes it, but no field takes a bool as a number.
        accepted = (int, float) if kind is float else (kind,)
        if isinstance(value, bool) and kind is not bool or not isinstance(value, accepted):
            self.problem(line, where, f"must be {_type_name(kind)}, got {value!r}")
            return None
        if kind is float:
            value = float(mapping[key])
            if not math.isfinite(value):
                self.problem(line, where, f"must be a finite number, got {mapping[key]!r}")
                return None
        message = check(value) if check else None
        if message:
            self.problem(line, where, message)
            return None
        return value


def _at_least(low: float) -> Callable[[Any], str | None]:
    return lambda value: None if value >= low else f"must be at least {low:g}, got {value!r}"


def _between(low: float, high: float) -> Callable[[Any], str | None]:
    return lambda value: None if low <= value <= high else f"must be from {low:g} to {high:g}, got {value!r}"


def _name(value: str) -> str | None:
    # The name is the scenario's folder in the results: no path separators, nothing hidden.
    if NAME.fullmatch(value):
        return None
    return f"must be letters, digits, '.', '_' or '-', starting with a letter or digit; got {value!r}"


def _positive(high: float) -> Callable[[Any], str | None]:
    return lambda value: None if 0 < value <= high else f"must be greater than 0 and at most {high:g}, got {value!r}"


def _one_of(choices: list[str]) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        if value in choices:
            return None
        close = difflib.get_close_matches(str(value), choices, n=1)
        hint = f"did you mean '{close[0]}'?" if close else "one of " + ", ".join(choices)
        return f"unknown value {value!r}; {hint}"

    return check


SWARM_KEYS = (
    "users",
    "processes",
    "requests_per_user",
    "duration",
    "spawn_rate",
    "timeout",
    "user_class",
    "model",
    "rate",
    "warmup",
)


def _swarm(c: _Checker, m: _Map) -> Swarm | None:
    p = "swarm."
    problems = len(c.problems)
    model = c.get(m, "model", str, p, default="closed", check=_one_of(list(MODELS)))
    duration = c.get(m, "duration", float, p, default=None, check=_positive(MAX_SECONDS))
    rate = c.get(m, "rate", float, p, default=None, check=_positive(MAX_USERS))
    if "requests_per_user" in m and "duration" in m:
        c.problem(m.key_lines["duration"], p + "duration", "give either requests_per_user or duration, not both")
    if model == "open":
        for key in ("rate", "duration"):
            if key not in m:
                c.problem(m.line, p + key, "missing; the open model needs rate (requests/s) and duration (s)")
        if "requests_per_user" in m:
            c.problem(m.key_lines["requests_per_user"], p + "requests_per_user",
                      "the open model sends rate × duration requests; remove requests_per_user")  # fmt: skip
        if m.get("user_class") == "http":
            c.problem(m.key_lines["user_class"], p + "user_class", "the open model sends with FastHttpUser; use fast")
    elif "rate" in m:
        c.problem(m.key_lines["rate"], p + "rate", "only the open model takes a rate; set model: open")
    throughput = duration is not None or model == "open"
    swarm = Swarm(
        users=c.get(m, "users", int, p, check=_between(1, MAX_USERS)),
        requests_per_user=c.get(m, "requests_per_user", int, p, default=1, check=_between(1, MAX_REQUESTS_PER_USER)),
        spawn_rate=c.get(m, "spawn_rate", float, p, default=0.0, check=_between(0, MAX_USERS)),
        timeout_s=c.get(m, "timeout", float, p, default=60.0, check=_positive(MAX_SECONDS)),
        user_class=c.get(
            m, "user_class", str, p, default="fast" if throughput else "http", check=_one_of(list(USER_CLASSES))
        ),  # fmt: skip
        duration_s=duration,
        model=model,
        rate=rate,
        warmup=c.get(m, "warmup", int, p, default=0, check=_between(0, MAX_REQUESTS_PER_USER)),
        processes=c.get(m, "processes", int, p, default=1, check=_at_least(1)),
    )
    if swarm.users and swarm.processes and swarm.processes > swarm.users:
        c.problem(m.key_lines["processes"], p + "processes",
                  f"must be at most swarm.users ({swarm.users}), got {swarm.processes}")  # fmt: skip
    if model == "open" and swarm.processes > 1:
        c.problem(m.key_lines["processes"], p + "processes", "the open model runs in one process; remove processes")
    return swarm if len(c.problems) == problems else None


def _cpus(c: _Checker, m: _Map, role: str) -> tuple[int, ...]:
    if role not in m:
        return ()
    value, line = m[role], m.key_lines[role]
    try:
        if isinstance(value, bool):
            raise ValueError(value)
        cpus = parse_cpus(str(value))
    except ValueError:
        c.problem(line, f"cpus.{role}", f"must be a CPU list like 0, 1-3 or 0,2; got {value!r}")
        return ()
    usable = sorted(os.sched_getaffinity(0))
    outside = [cpu for cpu in cpus if cpu not in usable]
    if outside:
        c.problem(line, f"cpus.{role}", f"CPU {cpu_list(outside)} is not available here; usable: {cpu_list(usable)}")
        return ()
    return cpus


def _parse(data: _Map, source: str) -> Scenario:
    from djload.servers import MODES  # the table of server modes is the one list of valid names

    c = _Checker(source)
    c.known_keys(data, ("name", "description", "server", "endpoint", "sleep", "swarm", "cpus", "expected"), "")
    name = c.get(data, "name", str, default=Path(source).stem, check=_name)
    description = c.get(data, "description", str, default="")
    sleep = c.get(data, "sleep", float, default=2.0, check=_between(0, MAX_SECONDS))

    server = None
    server_map = c.section(data, "server", "mode")
    if server_map is not None:
        c.known_keys(server_map, ("mode", "workers", "threads"), "server.")
        server = Server(
            mode=c.get(server_map, "mode", str, "server.", check=_one_of(sorted(MODES))),
            workers=c.get(server_map, "workers", int, "server.", default=1, check=_between(1, MAX_WORKERS)),
            threads=c.get(server_map, "threads", int, "server.", default=1, check=_between(1, MAX_THREADS)),
        )

    endpoint = None
    endpoint_map = c.section(data, "endpoint", "path")
    if endpoint_map is not None:
        c.known_keys(endpoint_map, ("path", "query"), "endpoint.")
        path = c.get(endpoint_map, "path", str, "endpoint.", check=_one_of(site_endpoints()))
        endpoint = Endpoint(path=path, query=tuple(c.query(endpoint_map, "endpoint.").items()))

    swarm = None
    swarm_map = c.section(data, "swarm", "users")
    if swarm_map is not None:
        c.known_keys(swarm_map, SWARM_KEYS, "swarm.")
        swarm = _swarm(c, swarm_map)

    cpus = Placement()
    if "cpus" in data:
        cpus_map = c.mapping(data["cpus"], data.key_lines["cpus"], "cpus")
        if cpus_map is not None:
            c.known_keys(cpus_map, ("server", "generator"), "cpus.")
            cpus = Placement(*(_cpus(c, cpus_map, role) for role in ("server", "generator")))

    expected: dict[str, float] = {}
    if "expected" in data:
        expected_map = c.mapping(data["expected"], data.key_lines["expected"], "expected")
        if expected_map is not None:
            c.known_keys(expected_map, EXPECTED_KEYS, "expected.")
            for key in expected_map:
                if key in EXPECTED_KEYS:
                    expected[key] = c.get(expected_map, key, float, "expected.", check=_at_least(0))

    if c.problems:
        raise ScenarioError(c.problems)
    assert server and endpoint and swarm
    return Scenario(
        name=name,
        description=description,
        server=server,
        endpoint=endpoint,
        swarm=swarm,
        cpus=cpus,
        sleep=sleep,
        expected=expected,
        source=source,
    )


def _read(path: Path) -> _Map:
    source = str(path)
    try:
        loader = _Loader(path.read_text(encoding="utf-8"))
        try:
            data = loader.get_single_data()
        finally:
            loader.dispose()
    except OSError as exc:
        raise ScenarioError([f"{source}: cannot read: {exc.strerror}"]) from None
    except UnicodeDecodeError as exc:
        raise ScenarioError([f"{source}: not UTF-8 text (byte {exc.start + 1})"]) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{mark.line + 1}:{mark.column + 1}" if mark else "1"
        raise ScenarioError([f"{source}:{where}: invalid YAML: {exc.problem or exc.context}"]) from None
    except yaml.YAMLError as exc:
        raise ScenarioError([f"{source}:1: invalid YAML: {' '.join(str(exc).split())}"]) from None
    if not isinstance(data, _Map):
        raise ScenarioError([f"{source}:1: the file must hold a mapping of scenario fields"])
    if loader.duplicates:
        # YAML itself lets the last one win, silently.
        raise ScenarioError([f"{source}:{line}: {key}: given twice in one mapping" for line, key in loader.duplicates])
    return data


def load_file(path: Path) -> Scenario:
    """The one scenario of a plain (non-matrix) file."""
    return _parse(_read(path), str(path))


def load_scenarios(path: Path) -> list[Scenario]:
    """The scenarios of one file: one, or one per combination when the file declares a ``matrix:``."""
    data = _read(path)
    if "matrix" in data:
        return _expand(data, str(path))
    return [_parse(data, str(path))]


def scenario_files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml"))
    return [path]


def load(paths: Iterable[str | Path]) -> list[Scenario]:
    """Every scenario named by files or folders; all problems of all files in one ScenarioError."""
    scenarios: list[Scenario] = []
    problems: list[str] = []
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            problems.append(f"{path}: no such file or folder")
            continue
        files = scenario_files(path)
        if not files:
            problems.append(f"{path}: folder holds no scenario files (*.yaml)")
        for file in files:
            try:
                scenarios.extend(load_scenarios(file))
            except ScenarioError as exc:
                problems.extend(exc.problems)
    names = [s.name for s in scenarios]
    for scenario in scenarios:
        if names.count(scenario.name) > 1:
            problems.append(f"{scenario.source}:1: name: '{scenario.name}' is used by more than one scenario")
    if problems:
        raise ScenarioError(list(dict.fromkeys(problems)))
    return scenarios


# Matrix files. ``matrix:`` maps a dotted field name (``server.mode``, ``endpoint.query.times``) to a list
# of values; a value may also be a mapping merged into that field (``server: [{mode: wsgi-gthread,
# threads: 4}]``). Every combination of the axes becomes one Scenario, named after the file and the
# values, except those matching an entry of ``exclude:`` (a list of mappings of dotted field names).
# An entry of ``include:`` sets its other fields on the combinations that match its matrix fields, e.g.
# fewer requests where each one is slow: ``{endpoint.query.times: 1000000, swarm.requests_per_user: 10}``.


def _copy(value: Any) -> Any:
    if isinstance(value, _Map):
        copy = _Map({key: _copy(item) for key, item in value.items()})
        copy.line, copy.key_lines = value.line, dict(value.key_lines)
        return copy
    if isinstance(value, list):
        return [_copy(item) for item in value]
    return value


def _assign(mapping: _Map, key: str, value: Any, line: int, c: _Checker, where: str) -> None:
    """Set a dotted field; a mapping value is merged field by field. Lines point at the matrix."""
    *parents, last = key.split(".")
    for part in parents:
        if part not in mapping:
            child = _Map()
            child.line, child.key_lines = line, {}
            mapping[part], mapping.key_lines[part] = child, line
        if not isinstance(mapping[part], _Map):
            c.problem(line, where, f"cannot set '{key}': '{part}' is not a mapping")
            return
        mapping = mapping[part]
    if isinstance(value, _Map):
        if last not in mapping or not isinstance(mapping[last], _Map):
            child = _Map()
            child.line, child.key_lines = line, {}
            mapping[last], mapping.key_lines[last] = child, line
        for sub_key, sub_value in value.items():
            _assign(mapping[last], str(sub_key), sub_value, value.key_lines[sub_key], c, where)
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


def _plain(value: Any) -> Any:
    return {str(k): _plain(v) for k, v in value.items()} if isinstance(value, dict) else value


def _expand(data: _Map, source: str) -> list[Scenario]:
    c = _Checker(source)
    matrix = c.mapping(data["matrix"], data.key_lines["matrix"], "matrix")
    if matrix is None:
        raise ScenarioError(c.problems)
    axes: list[tuple[str, list[tuple[Any, int]]]] = []
    rules: dict[str, list[tuple[_Map, int]]] = {"exclude": [], "include": []}
    for key, values in matrix.items():
        line = matrix.key_lines[key]
        if key in rules:
            if not isinstance(values, _Seq) or not all(isinstance(v, _Map) for v in values):
                c.problem(line, f"matrix.{key}", "must be a list of mappings of dotted field names to values")
            else:
                rules[key] = list(zip(values, values.item_lines, strict=True))
            continue
        if not isinstance(values, _Seq) or not values:
            c.problem(line, f"matrix.{key}", f"must be a non-empty list of values, got {values!r}")
            continue
        axes.append((str(key), list(zip(values, values.item_lines, strict=True))))
    if not axes:
        c.problem(matrix.line, "matrix", "needs at least one field with a list of values")
    axis_keys = [key for key, _ in axes]

    def on_axis(field: str) -> bool:
        return any(field == key or field.startswith(key + ".") for key in axis_keys)

    for rule, line in rules["include"]:
        if not any(on_axis(str(k)) for k in rule):
            c.problem(
                line, "matrix.include", f"{_plain(rule)} names no matrix field to match; one of " + ", ".join(axis_keys)
            )
    if c.problems:
        raise ScenarioError(c.problems)

    def matches(variant: _Map, rule: _Map, conditions: Callable[[str], bool]) -> bool:
        return all(_lookup(variant, str(k)) == v for k, v in rule.items() if conditions(str(k)))

    base = _copy(data)
    del base["matrix"]
    group = base.get("name") if isinstance(base.get("name"), str) and base.get("name") else Path(source).stem
    scenarios: list[Scenario] = []
    problems: list[str] = []
    used: set[tuple[str, int]] = set()
    for combination in itertools.product(*[[(key, value, line) for value, line in values] for key, values in axes]):
        variant = _copy(base)
        for key, value, line in combination:
            _assign(variant, key, value, line, c, key)
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
                        _assign(variant, str(k), v, rule.key_lines[k], c, str(k))
        labels = [(key, _label(key, value)) for key, value, _ in combination]
        variant["name"] = "-".join([group] + [label for _, label in labels])
        variant.key_lines["name"] = base.key_lines.get("name", data.key_lines["matrix"])
        try:
            scenario = _parse(variant, source)
        except ScenarioError as exc:
            problems.extend(exc.problems)
            continue
        scenarios.append(replace(scenario, group=group, matrix=tuple(labels)))
    for kind, entries in rules.items():
        for i, (rule, line) in enumerate(entries):
            if (kind, i) not in used:
                c.problem(line, f"matrix.{kind}", f"{_plain(rule)} matches no combination of the matrix")
    problems = c.problems + problems
    if problems:
        raise ScenarioError(list(dict.fromkeys(problems)))
    return scenarios
