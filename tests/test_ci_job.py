"""The manual's GitHub Actions job (docs/ci.md) is complete and its commands work as written: run here, step by
step, in a fresh working folder beside a stored baseline, with the job's own command lines."""

import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import yaml

from djload.scenario import load

ROOT = Path(__file__).parent.parent
CI_PAGE = ROOT / "docs" / "ci.md"
DJLOAD = ".venv/bin/djload"


def _page() -> str:
    return CI_PAGE.read_text()


def _blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", text, re.S)


def _job() -> dict[str, Any]:
    (workflow,) = [yaml.safe_load(block) for block in _blocks(_page(), "yaml") if "jobs:" in block]
    (job,) = workflow["jobs"].values()
    assert isinstance(job, dict)
    return job


def _uses(job: dict[str, Any], action: str) -> dict[str, Any]:
    (step,) = [step for step in job["steps"] if step.get("uses", "").startswith(action + "@")]
    assert isinstance(step, dict)
    return step


def test_the_job_caches_the_venv_runs_thresholds_compares_and_uploads() -> None:
    job = _job()
    cache = _uses(job, "actions/cache")["with"]
    assert cache["path"] == ".venv" and "hashFiles('pyproject.toml'" in cache["key"]
    assert "steps.python.outputs.python-version" in cache["key"]  # a venv is tied to its exact Python
    assert _uses(job, "actions/setup-python")["with"]["python-version"] == "3.11"
    runs = [step["run"] for step in job["steps"] if "run" in step]
    assert runs[0] == "scripts/setup" and os.access(ROOT / "scripts" / "setup", os.X_OK)
    (run,) = [line for line in runs if line.startswith(f"{DJLOAD} run ")]
    scenarios = load([str(ROOT / run.split()[2])])
    assert scenarios and all(scenario.thresholds for scenario in scenarios)  # a scenario with thresholds
    (compare,) = [line for line in runs if line.startswith(f"{DJLOAD} compare baseline ")]
    upload = _uses(job, "actions/upload-artifact")
    assert upload["if"] == "always()"  # the report of a failed check is the one worth reading
    folder = upload["with"]["path"].rstrip("/")
    out = run.split("--out ")[1].split()[0]
    assert out.startswith(folder + "/") and compare.split("--out ")[1].split()[0].startswith(folder + "/")
    # The example in the text is the file the job runs.
    (example,) = [yaml.safe_load(b) for b in _blocks(_page(), "yaml") if "thresholds:" in b]
    shipped = yaml.safe_load((ROOT / "scenarios" / "ci" / "asgi-async.yaml").read_text())
    assert example == {key: value for key, value in shipped.items() if key != "description"}


def _sh(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "-euo", "pipefail", "-c", command], cwd=cwd, capture_output=True, text=True,
                          timeout=300)  # fmt: skip


def test_the_jobs_commands_work_as_written(tmp_path: Path) -> None:
    # A fresh checkout: the repository's scenarios and the set-up virtual environment, no results/ yet.
    (tmp_path / "scenarios").symlink_to(ROOT / "scenarios")
    (tmp_path / ".venv").symlink_to(Path(sys.prefix))
    (record,) = [line for block in _blocks(_page(), "sh") for line in block.splitlines()
                 if "--out baseline" in line]  # fmt: skip
    done = _sh(record.strip(), tmp_path)
    assert done.returncode == 0, done.stderr + done.stdout
    for step in _job()["steps"]:
        if "run" not in step or step["run"] == "scripts/setup":  # setup: what the test suite itself runs on
            continue
        done = _sh(step["run"], tmp_path)
        assert done.returncode == 0, f"{step['name']}: {done.stderr}{done.stdout}"
    results = tmp_path / "results"
    assert (results / "ci" / "report.html").is_file() and (results / "compare" / "compare.html").is_file()
    assert "| ci-asgi-async |" in (results / "compare" / "compare.md").read_text()  # paired with the baseline
    suite = ET.parse(results / "junit.xml").getroot()
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("1", "0", "0")
    (case,) = suite.iter("testcase")
    assert case.get("name") == "ci-asgi-async"
