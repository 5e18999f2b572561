"""The README is a front page and the manual a MkDocs site that builds; the scenario reference lists exactly
the keys the checker knows, so that neither can drift from the other."""

import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

from djload import capacityspec, login, matrix, scenario, usersite
from djload.metrics import BY_REQUEST_METRICS
from djload.summary import METRIC_KEYS

ROOT = Path(__file__).parent.parent
REFERENCE = ROOT / "docs" / "scenario-reference.md"
BY_REQUEST = "by_request[<path>].<metric>"

# Each section heading of the reference's "## Keys" → the checker's own table of that section's keys.
SECTIONS: dict[str, tuple[str, ...]] = {
    "Top level": (*scenario.TOP_KEYS, "matrix"),  # matrix: read by matrix.expand before the checker
    "`server`": scenario.SERVER_KEYS,
    "`endpoint`": scenario.ENDPOINT_KEYS,
    "`swarm`": scenario.SWARM_KEYS,
    "`site`": usersite.SITE_KEYS,
    "`requests` entries": usersite.REQUEST_KEYS,
    "`login`": login.LOGIN_KEYS,
    "`capacity`": capacityspec.KEYS,
    "`database`": scenario.DATABASE_KEYS,
    "`cpus`": scenario.CPUS_KEYS,
    "`expected`": scenario.EXPECTED_KEYS,
    "`matrix`": matrix.RULES,
    "`thresholds`": (*METRIC_KEYS, BY_REQUEST),
}


def _documented() -> dict[str, list[str]]:
    """Each ### section of "## Keys" and the keys of its table's rows, in the page's order."""
    text = REFERENCE.read_text()
    start = text.index("\n## Keys\n")
    keys_part = text[start : text.index("\n## ", start + 1)]
    found: dict[str, list[str]] = {}
    for block in re.split(r"\n### ", keys_part)[1:]:
        heading, _, body = block.partition("\n")
        found[heading.strip()] = re.findall(r"^\| `([^`]+)` \|", body, re.M)
    return found


def test_the_scenario_reference_documents_every_key_the_checker_knows_and_no_other() -> None:
    documented = _documented()
    assert list(documented) == list(SECTIONS), "one ### section per section of a scenario file"
    for heading, known in SECTIONS.items():
        keys = documented[heading]
        assert sorted(keys) == sorted(set(keys)), f"{heading}: a key documented twice"
        assert set(keys) == set(known), (
            f"{heading}: undocumented {sorted(set(known) - set(keys))}, unknown to the checker "
            f"{sorted(set(keys) - set(known))}"
        )


def test_the_reference_names_each_metric_a_mix_entrys_threshold_takes() -> None:
    text = REFERENCE.read_text()
    (row,) = [line for line in text.splitlines() if line.startswith(f"| `{BY_REQUEST}` |")]
    named = re.findall(r"`([a-z0-9_]+)`", row.split("|")[2])
    assert set(BY_REQUEST_METRICS) <= set(named) <= set(BY_REQUEST_METRICS)


def test_the_readme_is_a_front_page_that_starts_with_the_two_commands_and_links_every_page() -> None:
    lines = (ROOT / "README.md").read_text().splitlines()
    assert len(lines) <= 300
    assert lines[:5] == [
        "# djload",
        "",
        "```sh",
        "scripts/setup && .venv/bin/djload run scenarios/talk   # set up, then run the talk's comparison",
        "scripts/test                                         # run the tests",
    ]
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    pages: list[str] = []

    def walk(entries: list[object]) -> None:
        for entry in entries:
            assert isinstance(entry, dict)
            for value in entry.values():
                if isinstance(value, list):
                    walk(value)
                else:
                    pages.append(value)

    walk(config["nav"])
    linked = set(re.findall(r"\]\(docs/([^)#]+)", "\n".join(lines)))
    assert set(pages) - {"index.md"} <= linked, "the README links each page of the manual"
    assert sorted(p.name for p in (ROOT / "docs").glob("*.md")) == sorted(pages), "every page is in the nav"


def test_the_manual_builds_strictly_into_a_folder_that_is_not_the_django_project(tmp_path: Path) -> None:
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    assert config["theme"]["name"] == "material" and not config["site_dir"].startswith("site")
    mkdocs = Path(sys.executable).parent / "mkdocs"
    environment = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    done = subprocess.run([str(mkdocs), "build", "--strict", "--site-dir", str(tmp_path / "site")], cwd=ROOT,
                          env=environment, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "site" / "index.html").is_file()
    assert (tmp_path / "site" / "scenario-reference" / "index.html").is_file()


def test_a_broken_link_fails_the_strict_build(tmp_path: Path) -> None:
    # The same configuration over a copy of the pages with one link to an anchor that does not exist.
    docs = tmp_path / "docs"
    docs.mkdir()
    for page in (ROOT / "docs").glob("*.md"):
        (docs / page.name).write_text(page.read_text())
    with (docs / "faults.md").open("a") as faults:
        faults.write("\nSee [the commands](commands.md#no-such-heading).\n")
    (tmp_path / "mkdocs.yml").write_text((ROOT / "mkdocs.yml").read_text())
    mkdocs = Path(sys.executable).parent / "mkdocs"
    environment = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    done = subprocess.run([str(mkdocs), "build", "--strict"], cwd=tmp_path, env=environment, capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    assert done.returncode != 0 and "no-such-heading" in done.stderr
