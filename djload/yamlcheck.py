"""A YAML loader that remembers the line of every key and item, and a checker that collects problems.

Every problem in a file is reported, one line each, as ``file:line: field: what is wrong`` (with a
did-you-mean where a close name exists), so a person can fix them all in one go.
"""

import difflib
import math
import os
import stat
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import yaml

# A scenario file is a few hundred bytes; these bounds keep reading and checking any input cheap.
MAX_FILE_BYTES = 1 << 20
# Nodes of the document with every alias expanded: anchors and aliases can make a small file a huge one.
MAX_NODES = 100_000
SHOWN_CHARS = 60  # a value quoted in a problem line is cut here


class ScenarioError(Exception):
    """One or more problems in scenario files; ``problems`` holds one line for each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class Map(dict[str, Any]):
    """A YAML mapping that remembers the line of each key (1-based)."""

    line: int = 0
    key_lines: dict[str, int]


class Seq(list[Any]):
    """A YAML list that remembers the line of each item (1-based)."""

    item_lines: list[int]


def new_map(line: int) -> Map:
    mapping = Map()
    mapping.line, mapping.key_lines = line, {}
    return mapping


class _Loader(yaml.SafeLoader):
    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicates: list[tuple[int, str]] = []  # (line, key): YAML itself lets the last one win


def _construct_map(loader: _Loader, node: yaml.MappingNode) -> Map:
    loader.flatten_mapping(node)
    mapping = new_map(node.start_mark.line + 1)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in mapping:
            loader.duplicates.append((key_node.start_mark.line + 1, str(key)))
        mapping[key] = loader.construct_object(value_node, deep=True)
        mapping.key_lines[key] = key_node.start_mark.line + 1
    return mapping


def _construct_seq(loader: _Loader, node: yaml.SequenceNode) -> Seq:
    sequence = Seq(loader.construct_object(item, deep=True) for item in node.value)
    sequence.item_lines = [item.start_mark.line + 1 for item in node.value]
    return sequence


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_map)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_seq)


def _file_text(path: Path) -> str:
    """The text of a regular file of at most MAX_FILE_BYTES. Opened without blocking, so that a FIFO or a
    device named *.yaml is refused instead of waited on."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ScenarioError([f"{path}: not a regular file; a scenario is a YAML file"])
        data = b""
        while len(data) <= MAX_FILE_BYTES and (chunk := os.read(fd, MAX_FILE_BYTES + 1 - len(data))):
            data += chunk
    finally:
        os.close(fd)
    if len(data) > MAX_FILE_BYTES:
        raise ScenarioError([f"{path}: larger than {MAX_FILE_BYTES >> 20} MiB; a scenario file is a few hundred bytes"])
    return data.decode("utf-8")


def _expanded_size(root: yaml.Node) -> int:
    """How many nodes the document has with every alias expanded, counted without expanding it."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()

    def size(node: yaml.Node) -> int:
        if id(node) in sizes:
            return sizes[id(node)]
        if id(node) in open_nodes:
            raise ValueError("an alias refers to a node that contains it")
        open_nodes.add(id(node))
        total = 1
        if isinstance(node, yaml.MappingNode):
            total += sum(size(key) + size(value) for key, value in node.value)
        elif isinstance(node, yaml.SequenceNode):
            total += sum(size(item) for item in node.value)
        open_nodes.discard(id(node))
        sizes[id(node)] = min(total, MAX_NODES + 1)  # capped: the count stays a small number
        return sizes[id(node)]

    return size(root)


def read(path: Path) -> Map:
    """The file's top-level mapping, every key with its line; ScenarioError for anything else."""
    source = str(path)
    try:
        loader = _Loader(_file_text(path))
        try:
            node = loader.get_single_node()
            if node is not None and _expanded_size(node) > MAX_NODES:
                raise ScenarioError([f"{source}:1: more than {MAX_NODES} values, each alias counted as what it "
                                     "repeats; a scenario has a few dozen"])  # fmt: skip
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except OSError as exc:
        raise ScenarioError([f"{source}: cannot read: {exc.strerror}"]) from None
    except UnicodeDecodeError as exc:
        raise ScenarioError([f"{source}: not UTF-8 text (byte {exc.start + 1})"]) from None
    except RecursionError:
        raise ScenarioError([f"{source}:1: nested too deeply"]) from None
    except ValueError as exc:  # an integer of thousands of digits, an alias inside itself
        if "digits" in str(exc):
            raise ScenarioError([f"{source}:1: invalid YAML: a whole number of more than "
                                 f"{sys.get_int_max_str_digits():,} digits"]) from None  # fmt: skip
        raise ScenarioError([f"{source}:1: invalid YAML: {shown_text(str(exc), 120)}"]) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{mark.line + 1}:{mark.column + 1}" if mark else "1"
        raise ScenarioError([f"{source}:{where}: invalid YAML: {exc.problem or exc.context}"]) from None
    except yaml.YAMLError as exc:
        raise ScenarioError([f"{source}:1: invalid YAML: {' '.join(str(exc).split())}"]) from None
    if not isinstance(data, Map):
        raise ScenarioError([f"{source}:1: the file must hold a mapping of scenario fields"])
    if loader.duplicates:
        # YAML itself lets the last one win, silently.
        raise ScenarioError([f"{source}:{line}: {key}: given twice in one mapping" for line, key in loader.duplicates])
    return data


def shown_text(text: str, limit: int = SHOWN_CHARS) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def shown(value: Any, limit: int = SHOWN_CHARS) -> str:
    """A value as a problem line quotes it: its repr, cut at limit characters, built only that far."""
    parts: list[str] = []
    length = 0

    def emit(text: str) -> bool:
        nonlocal length
        parts.append(text[: limit + 1 - length])
        length += len(parts[-1])
        return length <= limit

    def walk(item: Any) -> bool:
        if isinstance(item, dict):
            return (
                emit("{")
                and all(
                    (not i or emit(", ")) and walk(key) and emit(": ") and walk(sub)
                    for i, (key, sub) in enumerate(item.items())
                )
                and emit("}")
            )
        if isinstance(item, list):
            return emit("[") and all((not i or emit(", ")) and walk(sub) for i, sub in enumerate(item)) and emit("]")
        if isinstance(item, str):
            return emit(repr(item[: limit + 1]) if len(item) > limit else repr(item))
        if isinstance(item, int) and not isinstance(item, bool) and item.bit_length() > 4 * limit:
            return emit(f"a whole number of {item.bit_length()} bits")
        return emit(repr(item))

    whole = walk(value)
    text = "".join(parts)
    return text if whole else text[:limit] + "…"


def type_name(kind: type | tuple[type, ...]) -> str:
    names = {int: "an integer", float: "a number", str: "a string", dict: "a mapping", bool: "true or false"}
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return names.get(kinds[0], kinds[0].__name__)


Check = Callable[[Any], str | None]  # a value → what is wrong with it, or None


class Checker:
    """Collects problems while reading one file's mappings."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[str] = []

    def problem(self, line: int, where: str, text: str) -> None:
        self.problems.append(f"{self.source}:{line}: {where}: {text}")

    def mapping(self, value: Any, line: int, where: str) -> Map | None:
        if isinstance(value, Map):
            return value
        self.problem(line, where, f"must be a mapping, got {shown(value)}")
        return None

    def section(self, data: Map, key: str, fields: str) -> Map | None:
        if key not in data:
            self.problem(data.line, key, f"missing; it must be a mapping with {fields}")
            return None
        return self.mapping(data[key], data.key_lines[key], key)

    def known_keys(self, mapping: Map, allowed: Iterable[str], prefix: str) -> None:
        allowed = list(allowed)
        for key in mapping:
            if key in allowed:
                continue
            name = shown_text(str(key))
            close = difflib.get_close_matches(name, allowed, n=1)
            hint = f"did you mean '{close[0]}'?" if close else "allowed: " + ", ".join(allowed)
            self.problem(mapping.key_lines[key], f"{prefix}{name}", f"unknown key; {hint}")

    def get(
        self,
        mapping: Map,
        key: str,
        kind: type,
        prefix: str = "",
        *,
        default: Any = ...,
        check: Check | None = None,
    ) -> Any:
        where = prefix + key
        if key not in mapping:
            if default is ...:
                self.problem(mapping.line, where, f"missing; it must be {type_name(kind)}")
            return None if default is ... else default
        value = mapping[key]
        line = mapping.key_lines[key]
        # YAML reads 2 as an int; a float field takes it, but no field takes a bool as a number.
        accepted = (int, float) if kind is float else (kind,)
        if isinstance(value, bool) and kind is not bool or not isinstance(value, accepted):
            self.problem(line, where, f"must be {type_name(kind)}, got {shown(value)}{_as_text(value, kind)}")
            return None
        if kind is float:
            try:
                value = float(mapping[key])
            except OverflowError:  # a whole number beyond any float
                value = math.inf
            if not math.isfinite(value):
                self.problem(line, where, f"must be a finite number, got {shown(mapping[key])}")
                return None
        message = check(value) if check else None
        if message:
            self.problem(line, where, message)
            return None
        return value


def _as_text(value: Any, kind: type) -> str:
    """Why a number YAML read as text is text: YAML 1.1 takes 1e-3 or 1.0e3 as strings (it wants a dot and
    a signed exponent: 1.0e-3). The hint shows the spelling it takes."""
    if kind not in (int, float) or not isinstance(value, str) or len(value) > 40:
        return ""
    try:
        number = float(value.replace("_", ""))
    except ValueError:
        return ""
    if not math.isfinite(number):
        return ", a number beyond any float"
    if kind is int:
        whole = number.is_integer() and abs(number) < 1e18
        return f" (YAML reads it as text; write {int(number)})" if whole else ""
    mantissa, exponent = f"{number:.15e}".split("e")
    mantissa = mantissa.rstrip("0")
    return f" (YAML reads it as text; write {mantissa}{'0' if mantissa.endswith('.') else ''}e{int(exponent):+d})"


def at_least(low: float) -> Check:
    return lambda value: None if value >= low else f"must be at least {low:g}, got {shown(value)}"


def between(low: float, high: float) -> Check:
    return lambda value: None if low <= value <= high else f"must be from {low:g} to {high:g}, got {shown(value)}"


def positive(high: float) -> Check:
    return lambda value: (
        None if 0 < value <= high else f"must be greater than 0 and at most {high:g}, got {shown(value)}"
    )


def one_of(choices: list[str]) -> Check:
    def check(value: Any) -> str | None:
        if value in choices:
            return None
        close = difflib.get_close_matches(shown_text(str(value)), choices, n=1)
        hint = f"did you mean '{close[0]}'?" if close else "one of " + ", ".join(choices)
        return f"unknown value {shown(value)}; {hint}"

    return check
