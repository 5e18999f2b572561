"""The names djload gives to what it writes at the top of a results folder, and the one rule that puts a
scenario's own folder there: a scenario name may be none of these, and its folder is proven a direct
child of the results folder before anything is written into it."""

import re
from pathlib import Path

SUMMARY_JSON = "summary.json"
REPORT_MD, REPORT_HTML, FIGURES = "report.md", "report.html", "figures"
# Compared case-insensitively: on a case-insensitive file system Summary.JSON is summary.json.
RESERVED = frozenset(name.casefold() for name in (SUMMARY_JSON, REPORT_MD, REPORT_HTML, FIGURES))


NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
MAX_NAME = 120  # the scenario's folder name, with room below the file system's 255 bytes


def name_problem(name: str) -> str | None:
    """What makes name unfit to be a scenario's folder in the results; None when it is fit. Checked where
    a name is given (a scenario file) and where one is read back (a summary.json, which anyone may edit)."""
    if len(name) > MAX_NAME:
        return f"must be at most {MAX_NAME} characters, got {len(name)}"
    if not NAME.fullmatch(name):
        shown = repr(name) if len(name) <= 60 else repr(name[:60]) + "…"
        return f"must be letters, digits, '.', '_' or '-', starting with a letter or digit; got {shown}"
    if name.casefold() in RESERVED:
        return f"{name!r} is the name of the results folder's own {name}; choose another"
    return None


def scenario_dir(results: Path, name: str) -> Path:
    """results/name, once it is certain to be a folder directly inside results (ValueError otherwise)."""
    path = results / name
    if name in ("", ".", "..") or path.name != name or path.parent != results or name.casefold() in RESERVED:
        raise ValueError(f"{name!r} cannot be a scenario's folder inside {results}")
    return path
