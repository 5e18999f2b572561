"""command-lines.txt: each line read back with shlex.split is the argv that ran, with the folder's final paths."""

import json
import shlex
from pathlib import Path

from djload import commandlines
from tests.conftest import ScenarioFactory
from tests.helpers import run_one


def test_the_command_lines_read_back_as_the_argv_that_ran(tmp_path: Path, scenario_file: ScenarioFactory) -> None:
    out = tmp_path / "it's my results"  # a space and a quote: only a quoted line reads back whole
    scenario = scenario_file(swarm={"users": 2, "requests_per_user": 1}, sleep=0.05)
    row = run_one(scenario, out)
    partial = str(tmp_path / ".it's my results.partial")
    text = (out / "short" / "command-lines.txt").read_text()
    assert ".partial" not in text, text
    lines = dict(line.split(": ", 1) for line in text.splitlines())
    ran = {"server": row["server_command"], "locust": row["locust_command"]}  # as they were started
    for label, argv in ran.items():
        assert any(partial in argument for argument in argv), argv  # the run wrote into its .partial folder
        moved = [argument.replace(partial, str(out)) for argument in argv]
        assert shlex.split(lines[label]) == moved, (label, lines[label])
    assert commandlines.read(out / "short" / "command-lines.txt") == {
        "server": [a.replace(partial, str(out)) for a in row["server_command"]],
        "locust": [a.replace(partial, str(out)) for a in row["locust_command"]],
    }
    locust = shlex.split(lines["locust"])
    records = Path(locust[locust.index("--records-dir") + 1])
    assert records == out / "short" and (records / "requests.csv").is_file()  # the paths name real files
    assert json.loads((out / "summary.json").read_text())[0]["scenario"] == "short"


def test_a_path_moves_alone_or_as_an_option_value_and_nothing_else_does() -> None:
    old, new = "/r/.x.partial", "/r/x"
    assert commandlines._moved("/r/.x.partial/s/a.log", old, new) == "/r/x/s/a.log"
    assert commandlines._moved("--csv=/r/.x.partial/s/stats", old, new) == "--csv=/r/x/s/stats"
    assert commandlines._moved("/r/.x.partialness", old, new) == "/r/.x.partialness"
    assert commandlines._moved("--query=/r/.x.partial", old, new) == "--query=/r/x"
    assert commandlines._moved("name=/r/.x.partial", old, new) == "name=/r/.x.partial"  # not an option
