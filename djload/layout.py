"""The names djload gives to what it writes at the top of a results folder, and the one rule that puts a
scenario's own folder there: a scenario name may be none of these, and its folder is proven a direct
child of the results folder before anything is written into it."""

from pathlib import Path

SUMMARY_JSON = "summary.json"
REPORT_MD, REPORT_HTML, FIGURES = "report.md", "report.html", "figures"
# Compared case-insensitively: on a case-insensitive file system Summary.JSON is summary.json.
RESERVED = frozenset(name.casefold() for name in (SUMMARY_JSON, REPORT_MD, REPORT_HTML, FIGURES))


def scenario_dir(results: Path, name: str) -> Path:
    """results/name, once it is certain to be a folder directly inside results (ValueError otherwise)."""
    path = results / name
    if name in ("", ".", "..") or path.name != name or path.parent != results or name.casefold() in RESERVED:
        raise ValueError(f"{name!r} cannot be a scenario's folder inside {results}")
    return path
