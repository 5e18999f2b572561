"""A JUnit XML report of a run, which CI systems show natively: one test case per scenario, one failure
per breached threshold or failed run."""

import xml.etree.ElementTree as ET
from pathlib import Path

from djload import thresholds
from djload.summary import Row


def document(rows: list[Row], name: str = "djload") -> ET.ElementTree:
    suite = ET.Element("testsuite", name=name)
    failures = errors = skipped = 0
    total_time = 0.0
    for row in rows:
        seconds = row.measured.total_time_s or 0.0
        total_time += seconds
        case = ET.SubElement(
            suite, "testcase", name=row.name, classname=f"djload.{row.asked.server_mode}", time=f"{seconds:.3f}"
        )
        if row.status.status == "interrupted":
            skipped += 1
            ET.SubElement(case, "skipped", message=row.status.problem or "interrupted")
        elif not row.completed:
            errors += 1
            first_line = row.status.problem.splitlines()[0] if row.status.problem else row.status.status
            error = ET.SubElement(case, "error", type=row.status.status, message=first_line)
            error.text = row.status.problem
        for check in row.breaches:
            failures += 1
            failure = ET.SubElement(case, "failure", type="threshold", message=thresholds.describe(check))
            failure.text = f"{check.metric}: measured {check.value}, condition {check.condition}"
    suite.set("tests", str(len(rows)))
    suite.set("failures", str(failures))
    suite.set("errors", str(errors))
    suite.set("skipped", str(skipped))
    suite.set("time", f"{total_time:.3f}")
    ET.indent(suite)
    return ET.ElementTree(suite)


def write(path: Path, rows: list[Row]) -> None:
    """The JUnit XML file, written whole or not at all; its missing folders are made."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    document(rows).write(tmp, encoding="utf-8", xml_declaration=True)
    tmp.replace(path)
