"""Hostile input: every case is refused before anything starts, with exit code 2, one line naming the
cause, nothing written, in seconds."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import yaml

from djload import layout, processes, remote, results, servers, starter
from djload.scenario import HUGE, HUGE_FLAG, load
from tests.conftest import ScenarioFactory
from tests.helpers import djload

SCENARIO = {
    "server": {"mode": "wsgi"},
    "endpoint": {"path": "/sync/blocking/"},
    "sleep": 0.1,
    "swarm": {"users": 2},
}


def _write(path: Path, **fields: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump({**SCENARIO, **fields}, sort_keys=False))
    return path


def _refused(tmp_path: Path, *args: str | Path) -> str:
    """Run djload with a fresh --out; assert exit 2, within seconds, one line, no results; the line."""
    out = tmp_path / "out"
    before = set(tmp_path.rglob("*"))
    started = time.monotonic()
    done = djload("run", *args, "--out", out)
    elapsed = time.monotonic() - started
    assert done.returncode == 2, done.stderr + done.stdout
    assert elapsed < 30, elapsed
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert set(tmp_path.rglob("*")) == before  # no results folder, partial or final, nothing beside
    return lines[0]


@pytest.mark.parametrize("file_name", ["...yaml", "..yaml"])
def test_a_name_taken_from_the_file_passes_the_name_rule(tmp_path: Path, file_name: str) -> None:
    folder = tmp_path / "scenarios"
    _write(folder / file_name)
    line = _refused(tmp_path, folder)
    assert f"{file_name}:1: name: missing, and the file's name cannot stand in for it" in line, line


@pytest.mark.parametrize("name", ["summary.json", "report.html", "report.md", "figures", "Summary.JSON"])
def test_the_results_folders_own_names_are_refused(tmp_path: Path, name: str) -> None:
    line = _refused(tmp_path, _write(tmp_path / "s.yaml", name=name))
    assert f"name: '{name}' is the name of the results folder's own" in line, line


def test_a_name_too_long_for_a_folder(tmp_path: Path) -> None:
    line = _refused(tmp_path, _write(tmp_path / "s.yaml", name="a" * 300))
    assert line.endswith("name: must be at most 120 characters, got 300"), line


def test_a_huge_matrix_is_refused_without_being_expanded(tmp_path: Path) -> None:
    values = list(range(400))
    path = _write(tmp_path / "m.yaml", matrix={"sleep": values, "swarm.users": values, "swarm.timeout": values})
    line = _refused(tmp_path, path)
    assert "matrix: 64,000,000 combinations; more than 1,000 needs --i-know-its-huge" in line, line
    line = _refused(tmp_path, path, HUGE_FLAG)
    assert "more than 100,000 is refused even with --i-know-its-huge" in line, line


def test_a_big_matrix_needs_the_flag(tmp_path: Path) -> None:
    path = _write(tmp_path / "m.yaml", matrix={"sleep": [0.1, 0.2], "swarm.users": list(range(1, 1001))})
    line = _refused(tmp_path, path)
    assert "2,000 combinations; more than 1,000 needs --i-know-its-huge" in line, line
    assert len(load([path], HUGE)) == 2000


def test_many_runs_by_repeat_need_the_flag(tmp_path: Path) -> None:
    line = _refused(tmp_path, _write(tmp_path / "s.yaml"), "--repeat", "100000000000")
    assert "100,000,000,000 runs; more than 1,000 needs --i-know-its-huge" in line, line


@pytest.mark.parametrize(
    ("swarm", "sleep", "expected"),
    [
        ({"users": 100_000}, 0.1, "swarm: 100,000 users, each a connection on both sides; more than 10,000 needs"),
        ({"users": 10_000, "requests_per_user": 1000}, 0.0, "swarm: 10,000,000 requests (users × requests_per_user)"),
        (
            {"users": 1, "requests_per_user": 1000},
            3600,
            "swarm: takes at least 3,600,001 s (its sleeps, computations or duration)",
        ),
        (
            {"users": 1, "requests_per_user": 100_000, "timeout": 3600},
            0,
            "swarm: may take 360,000,001 s (each request up to the timeout)",
        ),
    ],
)
def test_a_scenarios_total_work_is_bounded(
    tmp_path: Path, swarm: dict[str, float], sleep: float, expected: str
) -> None:
    line = _refused(tmp_path, _write(tmp_path / "s.yaml", swarm=swarm, sleep=sleep))
    assert expected in line, line


def test_the_flag_lets_the_deliberately_huge_through(tmp_path: Path) -> None:
    (scenario,) = load([_write(tmp_path / "s.yaml", swarm={"users": 20_000})], HUGE)
    assert scenario.swarm.users == 20_000


def test_a_file_too_big_is_not_read(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_text("# " + "x" * (2 << 20) + "\n")
    assert _refused(tmp_path, path) == f"{path}: larger than 1 MiB; a scenario file is a few hundred bytes"


def test_query_values_are_encoded(tmp_path: Path) -> None:
    query = {"times": 10, "x": "&times=300000000#"}
    (scenario,) = load([_write(tmp_path / "s.yaml", endpoint={"path": "/sync/computation/", "query": query})])
    assert scenario.endpoint.url_path == "/sync/computation/?times=10&x=%26times%3D300000000%23"


@pytest.mark.parametrize("key", ["--users", "-h"])
def test_query_keys_locust_would_read_as_options_are_refused(tmp_path: Path, key: str) -> None:
    path = _write(tmp_path / "s.yaml", endpoint={"path": "/sync/computation/", "query": {key: 1}})
    assert _refused(tmp_path, path).endswith(
        f"endpoint.query.{key}: a query key must be a name that does not start with '-'"
    )


def test_an_absurd_spawn_rate_names_the_field(tmp_path: Path) -> None:
    line = _refused(tmp_path, _write(tmp_path / "s.yaml", swarm={"users": 10, "spawn_rate": 1e-300}))
    assert line.endswith("swarm.spawn_rate: starting 10 users at 1e-300 per second takes 1e+301 s; at most 3600 s")


def test_too_many_locust_processes(tmp_path: Path) -> None:
    line = _refused(tmp_path, _write(tmp_path / "s.yaml", swarm={"users": 100_000, "processes": 100_000}))
    assert "swarm.processes: must be from 1 to 64, got 100000" in line, line


def test_a_fifo_named_yaml_never_blocks(tmp_path: Path) -> None:
    folder = tmp_path / "scenarios"
    _write(folder / "fine.yaml", name="fine")
    os.mkfifo(folder / "pipe.yaml")
    assert _refused(tmp_path, folder) == f"{folder / 'pipe.yaml'}: not a regular file; a scenario is a YAML file"
    assert _refused(tmp_path, folder / "pipe.yaml").endswith("not a regular file; a scenario is a YAML file")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Nine levels of ten aliases each: a billion values from a few hundred bytes.
        (
            "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
            + "".join(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]\n" for i in range(1, 10)),
            ":1: more than 100000 values, each alias counted as what it repeats",
        ),
        ("name: " + "9" * 5000 + "\n", ":1: invalid YAML: a whole number of more than 4,300 digits"),
        ("name: " + "[" * 50_000 + "]" * 50_000 + "\n", ":1: nested too deeply"),
        ("sleep: " + "9" * 400 + "\n", "sleep: must be a finite number, got a whole number of 1329 bits"),
    ],
)
def test_input_shaped_to_be_costly_is_cheap_to_refuse(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "s.yaml"
    others = {key: value for key, value in SCENARIO.items() if key != "sleep"}
    path.write_text(yaml.safe_dump(others) + text if text.startswith("sleep") else text)
    assert expected in _refused(tmp_path, path)


def test_a_long_value_is_quoted_short(tmp_path: Path) -> None:
    line = _refused(tmp_path, _write(tmp_path / "s.yaml", server={"mode": "w" * 100_000}))
    assert len(line) < 300 and "server.mode: unknown value 'wwww" in line, line


def test_the_loopback_check_and_the_client_agree_on_the_host(tmp_path: Path) -> None:
    # urlsplit reads this as 127.0.0.1; urllib3, which locust sends with, as evil.example.
    url = "http://evil.example\\@127.0.0.1:1"
    with pytest.raises(servers.TargetError, match="backslash"):
        servers.check_target(url)
    line = _refused(tmp_path, _write(tmp_path / "s.yaml"), "--target", f"wsgi={url}")
    assert "a backslash, space or control character in a URL" in line, line


MIX_PATH = "/async/non-blocking/"


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ({"path": MIX_PATH, "headers": {"X-A": "€"}}, "requests[0].headers.X-A: a header value is visible ASCII"),
        ({"path": MIX_PATH, "headers": {"X-A": "a\nb"}}, "requests[0].headers.X-A: a header value is visible ASCII"),
        ({"path": MIX_PATH, "headers": {"X A:": "b"}}, "requests[0].headers.X A:: a header name is letters"),
        ({"path": MIX_PATH + "?a=b#c"}, "requests[0].path: must be visible ASCII without spaces or '#'"),
        ({"path": MIX_PATH + "?a=b c"}, "requests[0].path: must be visible ASCII without spaces or '#'"),
        ({"path": "/sync/computation/?times=99999999999"}, "requests[0].path: times must be at most 1,000,000,000"),
        ({"path": "/sync/computation/?times=-1"}, "requests[0].path: times must be a whole number of at least 0"),
        ({"method": "POST", "path": MIX_PATH, "body": "x" * 200_000}, "requests: the mix is 200,"),
    ],
)
def test_a_mix_entry_every_client_would_read_its_own_way_is_refused(
    tmp_path: Path, entry: dict[str, object], expected: str
) -> None:
    """Each of these used to fail request by request in locust (or, too long for its command line, with a
    traceback); now the field is named before anything starts."""
    fields = {key: value for key, value in SCENARIO.items() if key != "endpoint"}
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump({**fields, "requests": [entry]}, sort_keys=False))
    line = _refused(tmp_path, path)
    assert expected in line, line


def test_a_mix_of_too_many_entries_is_refused(tmp_path: Path) -> None:
    fields = {key: value for key, value in SCENARIO.items() if key != "endpoint"}
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump({**fields, "requests": [{"path": MIX_PATH, "weight": 1000}] * 3000}))
    assert _refused(tmp_path, path).endswith("requests: 3,000 entries; at most 100 (give weights instead)")


@pytest.mark.parametrize("mix", [False, True])
def test_the_computations_cost_counts_in_the_total_work(tmp_path: Path, mix: bool) -> None:
    """900,000,000 steps of the countdown take at least 9 s: 1000 of them one after another, over an hour."""
    computation = {"path": "/sync/computation/", "query": {"times": 900_000_000}}
    fields: dict[str, object] = {**SCENARIO, "swarm": {"users": 2, "requests_per_user": 1000}}
    if mix:
        del fields["endpoint"]
        fields["requests"] = [{"path": "/sync/computation/?times=900000000"}, {"path": MIX_PATH}]
    else:
        fields["endpoint"] = computation
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(fields, sort_keys=False))
    line = _refused(tmp_path, path)
    least = "4,551" if mix else "9,001"  # half the mix sleeps 0.1 s; the users start in a second
    assert f"swarm: takes at least {least}" in line and "(its sleeps, computations or duration)" in line, line


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("swarm: {users: 2, timeout: 1.0e-300}\n", "swarm.timeout: must be at least 0.001 s, got 1e-300"),
        ("swarm: {users: 2, duration: 1.0e-300}\n", "swarm.duration: must be at least 0.001 s, got 1e-300"),
        ("swarm: {users: 2, timeout: 1e-3}\n", "swarm.timeout: must be a number, got '1e-3' (YAML reads it as text; "
                                               "write 1.0e-3)"),
        ("swarm: {users: 1e3}\n", "swarm.users: must be an integer, got '1e3' (YAML reads it as text; write 1000)"),
        ("swarm: {users: 2, timeout: 1e309}\n",
         "swarm.timeout: must be a number, got '1e309', a number beyond any float"),
    ],
)  # fmt: skip
def test_swarm_values_at_their_extremes_name_the_field(tmp_path: Path, text: str, expected: str) -> None:
    others = {key: value for key, value in SCENARIO.items() if key != "swarm"}
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(others) + text)
    line = _refused(tmp_path, path)
    assert line.endswith(expected), line


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1%2eevil.example:8000",  # urllib3 decodes it to 127.0.0.1.evil.example
        "http://%31%32%37.0.0.1:8000",
        "http://[::1%25eth0]:8000",  # an IPv6 zone
        "http://[::1]x:8000",  # urlsplit reads ::1, urllib3 refuses it
        "http://ｌｏｃａｌｈｏｓｔ:8000",  # IDNA folds it to localhost; the check does not guess
        "http://127.0.0.1:8000/?x=1",  # the request's path would follow the query
        "http://127.0.0.1:8000#x",
    ],
)
def test_a_url_clients_may_read_differently_is_refused(url: str) -> None:
    with pytest.raises(servers.TargetError):
        servers.check_target(url, allow_remote=True)


@pytest.mark.parametrize(
    "url", ["http://[0:0:0:0:0:0:0:1]:8000", "http://[::ffff:127.0.0.1]:8000", "http://a@evil.example@127.0.0.1:8000"]
)
def test_loopback_in_any_plain_spelling_passes(url: str) -> None:
    assert servers.check_target(url) == url


def test_a_localhost_name_passes_only_if_it_resolves_to_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    """The client resolves the name: the check asks what it will get, not what the name looks like."""
    answers = {"a.localhost": "127.0.0.1", "b.localhost": "192.0.2.1", "c.localhost": None}

    def getaddrinfo(host: str, *_: object, **__: object) -> list[tuple[object, ...]]:
        if answers.get(host) is None:
            raise socket.gaierror("no such name")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answers[host], 0))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    assert servers.check_target("http://a.localhost:8000") == "http://a.localhost:8000"
    for name in ("b.localhost", "c.localhost"):
        with pytest.raises(servers.TargetError, match="not a name that resolves only to loopback addresses"):
            servers.check_target(f"http://{name}:8000")


def test_a_summary_naming_a_folder_outside_is_refused_by_the_report(tmp_path: Path) -> None:
    """The report names its figures and finds its records after each row's scenario: read back, the name
    follows the rule it was written under."""
    folder = tmp_path / "results"
    folder.mkdir()
    row = {"scenario": "../../outside", "status": "completed"}
    (folder / "summary.json").write_text(json.dumps([row]))
    before = set(tmp_path.rglob("*"))
    done = djload("report", folder)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip() == (f"djload: {folder / 'summary.json'}: row 1: scenario: must be letters, digits, "
                                   "'.', '_' or '-', starting with a letter or digit; got '../../outside'")  # fmt: skip
    assert set(tmp_path.rglob("*")) == before


def test_a_folder_left_by_a_killed_run_is_marked_by_the_next(tmp_path: Path) -> None:
    """A run without --out never asks for its name again: the next run in the same place marks its folder.
    A folder still locked by its run, and one that is not djload's, are left alone."""
    dead = tmp_path / ".2026-01-01T00-00-00-talk.partial"
    dead.mkdir()
    (dead / results.LOCK).write_text("999999999\n")
    (dead / "summary.json").write_text("[]")
    other = tmp_path / ".someone-elses.partial"
    other.mkdir()
    alive = tmp_path / ".alive.partial"
    alive.mkdir()
    (alive / results.LOCK).write_text("1\n")
    holder = subprocess.Popen(
        [sys.executable, "-c", "import fcntl, os, sys, time; fd = os.open(sys.argv[1], os.O_RDONLY); "
         "fcntl.flock(fd, fcntl.LOCK_EX); print(flush=True); time.sleep(60)", str(alive)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "\n"
        folder = results.RunFolder.new("next", base=tmp_path)
        folder.finish()
    finally:
        holder.kill()
        holder.wait()
    kept = tmp_path / "2026-01-01T00-00-00-talk-killed"
    assert "(pid 999999999) ended without finishing it" in (kept / "KILLED.txt").read_text()
    assert (kept / "summary.json").read_text() == "[]" and not (kept / results.LOCK).exists()
    assert not dead.exists() and other.is_dir() and alive.is_dir()


def test_a_failing_locust_is_named_in_one_line(tmp_path: Path) -> None:
    """locust fails for a reason of its own (here the master's port is taken): its last error line is
    the run's one line, and nothing outlives the run."""
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        out = tmp_path / "out"
        done = djload("run", _write(tmp_path / "s.yaml"), "--out", out, "--external-workers", f"127.0.0.1:{port}")
    assert done.returncode == 1, done.stderr
    assert done.stderr.strip() == (
        "s: failed: locust exited with code 1: locust.exception.RPCError: Socket bind failure: Address already in "
        f"use (addr='tcp://127.0.0.1:{port}') (see s/locust.log)"
    )
    assert "Traceback" in (out / "s" / "locust.log").read_text()  # the whole story stays in the log


@pytest.mark.parametrize(
    ("log", "cause"),
    [
        ("Traceback (most recent call last):\n  File 'x'\nValueError: bad\n", "ValueError: bad"),
        ("usage: locust\nlocust: error: argument --users: invalid int value: 'x'\n", "locust: error: argument"),
        ("Type | Name\n-----|-----\n|-----\n\n", "Type | Name"),
        ("", ""),
    ],
)
def test_the_cause_is_the_logs_line_that_says_why(tmp_path: Path, log: str, cause: str) -> None:
    path = tmp_path / "locust.log"
    path.write_text(log)
    assert processes.cause(path).startswith(cause)


def test_a_text_body_is_sent_as_utf8(tmp_path: Path) -> None:
    fields = {key: value for key, value in SCENARIO.items() if key != "endpoint"}
    path = tmp_path / "s.yaml"
    path.write_text(
        yaml.safe_dump({**fields, "requests": [{"method": "POST", "path": "/sync/blocking/", "body": "€"}]})
    )
    done = djload("run", path, "--out", tmp_path / "out")
    assert done.returncode == 0, done.stderr


SHOP = Path(__file__).parent / "projects" / "shop"


@pytest.mark.parametrize(
    ("site", "expected"),
    [
        ({"env": {"A=B": "x"}}, "site.env.A=B: an environment variable's name is letters, digits and '_'"),
        ({"env": {"A": "a\0b"}}, "site.env.A: must not hold a NUL character"),
        ({"wsgi": "--version"}, "site.wsgi: must be a module and its application, e.g. shop.wsgi:application"),
        ({"settings": "--version"}, "site.settings: must be a module, e.g. shop.settings, got '--version'"),
    ],
)
def test_a_projects_values_that_would_be_options_or_break_the_environment(
    tmp_path: Path, site: dict[str, object], expected: str
) -> None:
    """These ended in a traceback (an environment djload could not set) or in gunicorn's --version."""
    fields = {
        **SCENARIO,
        "endpoint": {"path": "/items/"},
        "site": {"path": str(SHOP), "settings": "shop.settings", **site},
    }
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(fields, sort_keys=False))
    line = _refused(tmp_path, path)
    assert expected in line, line


@pytest.mark.parametrize("args", [("serve", "--host=-h"), ("ui", "--web-host=-h")])
def test_an_address_that_would_be_an_option_is_refused(tmp_path: Path, args: tuple[str, str]) -> None:
    before = set(tmp_path.rglob("*"))
    done = djload(args[0], _write(tmp_path / "s.yaml"), args[1], "--allow-remote")
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().endswith("the host must be a plain name, IPv4 address or [IPv6 address], and the port "
                                        "digits; give a plain URL"), done.stderr  # fmt: skip
    assert set(tmp_path.rglob("*")) - before == {tmp_path / "s.yaml"}


def test_a_query_too_long_for_a_request_line(tmp_path: Path) -> None:
    endpoint = {"path": "/sync/computation/", "query": {"x": "y" * 900_000}}
    line = _refused(tmp_path, _write(tmp_path / "s.yaml", endpoint=endpoint))
    assert line.endswith("endpoint.query: the path with its query is 900,021 characters; servers take at most 4,000")


@pytest.mark.parametrize("kind", ["file", "dangling link"])
def test_compare_refuses_an_out_it_cannot_write_into_before_comparing(tmp_path: Path, kind: str) -> None:
    out = tmp_path / "out"
    if kind == "file":
        out.write_text("mine")
    else:
        out.symlink_to(tmp_path / "nowhere")
    done = djload("compare", tmp_path / "old", tmp_path / "new", "--out", out)
    assert done.returncode == 2 and len(done.stderr.splitlines()) == 1, done.stderr
    assert "argument --out:" in done.stderr and "Traceback" not in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"] and not (tmp_path / "nowhere").exists()


def test_the_web_uis_form_is_held_to_the_scenarios_bounds(scenario_file: ScenarioFactory, tmp_path: Path) -> None:
    """The form is free text, and locust sets any option a form names: a billion users, or a results_dir
    elsewhere, are refused with the reason, and nothing starts or is written outside the results folder."""
    from tests.test_web_ui import djload_ui, state

    def start(**form: object) -> dict[str, object]:
        data = urllib.parse.urlencode(form).encode()
        with urllib.request.urlopen(url + "swarm", data=data, timeout=10) as response:
            return dict(json.load(response))

    out = tmp_path / "ui"
    with djload_ui(scenario_file(), out) as url:
        cases: list[tuple[dict[str, object], str]] = [
            ({"user_count": 10**9, "spawn_rate": 1}, "user_count: 1,000,000,000 users; at most 10,000"),
            ({"user_count": 10, "spawn_rate": "1e-300"}, "the spawn and the duration may take at most 3600 s each"),
            ({"user_count": 10, "spawn_rate": "nan"}, "spawn_rate: must be a finite number above 0"),
            ({"user_count": "1" * 5000, "spawn_rate": 1}, "user_count: must be a finite number of at least 1"),
            ({"user_count": 1000, "requests_per_user": 10**6}, "more than 1,000,000 requests"),
            ({"user_count": 1, "results_dir": str(tmp_path)}, "the form may not set results_dir"),
            ({"user_count": 1, "max_users": 0, "allowed_hosts": ""}, "the form may not set allowed_hosts, max_users"),
        ]
        for form, message in cases:
            answer = start(**form)
            assert answer["success"] is False and message in str(answer["message"]), (form, answer)
        assert state(url) == "ready"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scenarios", "ui"]
    assert not list(out.glob("run-*"))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[" * 100_000 + "]" * 100_000, "cannot read the run's summary: nested too deeply"),
        ("[" + "9" * 10_000 + "]", "cannot read the run's summary: Exceeds the limit (4300 digits)"),
    ],
)
def test_a_summary_shaped_to_be_costly_is_one_line(tmp_path: Path, text: str, expected: str) -> None:
    (tmp_path / "summary.json").write_text(text)
    done = djload("report", tmp_path)
    assert done.returncode == 2 and len(done.stderr.splitlines()) == 1, done.stderr
    assert expected in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["summary.json"]


def test_a_folder_of_too_many_files_is_refused_before_any_is_read(tmp_path: Path) -> None:
    folder = tmp_path / "scenarios"
    folder.mkdir()
    for n in range(1001):
        (folder / f"s{n}.yaml").write_text("server: {mode: [\n")  # each would be a problem of its own
    assert _refused(tmp_path, folder) == f"{folder}: 1,001 scenario files; more than 1,000 needs --i-know-its-huge"


def test_a_junit_file_that_is_a_fifo_is_refused_before_the_run(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "junit.xml")
    line = _refused(tmp_path, _write(tmp_path / "s.yaml"), "--junit", tmp_path / "junit.xml")
    assert line.endswith(f"argument --junit: '{tmp_path / 'junit.xml'}' is not a regular file (see djload run --help)")


def test_a_control_endpoint_that_fails_never_shows_its_password(monkeypatch: pytest.MonkeyPatch) -> None:
    """The user and password go in a header, as to the site: urllib took user:s3cret@127.0.0.1 for a host
    name and asked DNS for it. Nothing listens on the port: the refusal is the error, password masked."""
    monkeypatch.setattr(remote, "TIMEOUT_S", 0.3)
    control = remote.Control(f"http://user:s3cret@127.0.0.1:{servers.free_port()}")
    with pytest.raises(remote.ControlError) as refused:
        control.begin()
    assert "user:***@127.0.0.1" in str(refused.value) and "s3cret" not in str(refused.value), refused.value
    assert "Connection refused" in str(refused.value), refused.value


def test_the_command_lines_warmup_counts_in_the_cost(tmp_path: Path) -> None:
    line = _refused(tmp_path, _write(tmp_path / "s.yaml", swarm={"users": 2, "timeout": 1}), "--warmup", "10**14")
    assert "argument --warmup: must be an integer" in line, line
    path = _write(tmp_path / "s.yaml", swarm={"users": 2, "timeout": 1}, sleep=0)
    line = _refused(tmp_path, path, "--warmup", str(10**14))
    assert line.startswith(f"{path}: with --warmup 100,000,000,000,000: swarm: may take 100,000,000,000,0"), line
    assert line.endswith(" s (each request up to the timeout); more than 86,400 needs --i-know-its-huge"), line


@pytest.mark.parametrize("workers", ["65", "100000", "9" * 5000, "0", "-1", "2.5"])
def test_workers_on_the_command_line_are_bounded_as_swarm_processes(tmp_path: Path, workers: str) -> None:
    line = _refused(tmp_path, _write(tmp_path / "s.yaml"), "--workers", workers)
    assert "argument --workers: must be a whole number from 1 to 64" in line, line


@pytest.mark.parametrize("folder", ["_shop", "-shop-", "a" * 300, "summary.json", "...", "é"])
def test_init_names_a_project_with_a_name_djload_run_takes(tmp_path: Path, folder: str) -> None:
    """The starter's name: (and its file's name under scenarios/) follows the scenario name rule, whatever
    the project's folder is called: the file it writes runs as it is."""
    name = starter._name(tmp_path / folder)
    assert layout.name_problem(name) is None, name
    assert starter.default_out(tmp_path / folder) == Path("scenarios") / f"{name}.yaml"
