"""docker-compose.yml and the Dockerfile: first checked without a container engine (`docker-compose config`
must accept the file, and every service's command must be one djload accepts, for the scenarios it names),
then run for real on a Docker engine: `docker compose up` on a clean copy reproduces the talk."""

import json
import os
import re
import shlex
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml

from djload import ROOT, cli
from djload.scenario import load

SERVICES = {"site-wsgi", "site-asgi", "master", "worker"}


def compose_config(*options: str, **env: str) -> dict[str, Any]:
    done = subprocess.run(
        ["docker-compose", *options, "config"], cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={key: value for key, value in os.environ.items() if key != "WORKERS"} | env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return dict(yaml.safe_load(done.stdout)["services"])


def djload_args(service: dict[str, Any]) -> Any:
    command = service["command"]
    return cli.build_parser().parse_args(command if isinstance(command, list) else shlex.split(command))


def test_compose_file_lists_sites_master_and_worker() -> None:
    services = compose_config()
    assert set(services) >= SERVICES
    for name in ("site-wsgi", "site-asgi"):
        assert "/health/" in " ".join(services[name]["healthcheck"]["test"])
        assert name in services[name]["environment"]["DJANGO_ALLOWED_HOSTS"].split(",")
    assert all(services[name]["image"] == "djload" for name in services)  # one image for all
    assert all(
        "./results" not in str(volume) or ":/app/results" in str(volume) for volume in services["master"]["volumes"]
    )
    assert "ui" in compose_config("--profile", "ui")


def test_each_service_runs_a_djload_command_that_fits() -> None:
    services = compose_config(WORKERS="3")
    sites = {name: djload_args(services[name]) for name in ("site-wsgi", "site-asgi")}
    modes = {name: load([args.scenario])[0].server.mode for name, args in sites.items()}
    assert modes == {"site-wsgi": "wsgi", "site-asgi": "asgi"}

    master = djload_args(services["master"])
    # As many locust workers as there are worker containers: WORKERS=3 scales the service to 3.
    assert master.command == "run" and master.workers_from == "worker" and services["worker"]["scale"] == 3
    assert "worker" in services["master"]["depends_on"]  # they exist before the master counts them
    targets, controls = dict(master.target), dict(master.control)
    for scenario in load(master.paths):
        mode = scenario.server.mode
        site = re.match(r"http://([\w-]+):", targets[mode])
        assert site and modes[site.group(1)] == mode, scenario.name
        # Each site's control endpoint is where that site's `djload serve` opens it.
        assert controls[mode] == f"http://{site.group(1)}:{sites[site.group(1)].control_port}", scenario.name
    assert cli._sites(master).master_bind is not None

    worker = djload_args(services["worker"])
    assert (worker.command, str(worker.master)) == ("worker", f"master:{master.external_workers.port}")
    ui = djload_args(compose_config("--profile", "ui")["ui"])
    assert ui.command == "ui" and dict(ui.target) == targets


def test_the_image_is_built_from_the_projects_own_files() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    sources = [word for line in dockerfile.splitlines() if line.startswith("COPY") for word in line.split()[1:-1]]
    assert sources and all((ROOT / source).exists() for source in sources)
    assert "pip install --no-deps -e ." in dockerfile
    assert not list(ROOT.glob("requirements*.txt"))  # pyproject.toml is the one dependency list
    # The dependencies are installed from pyproject.toml alone, before any of djload's files is copied:
    # editing the code, the site or a scenario does not invalidate that layer.
    steps = [line.split()[0] for line in dockerfile.splitlines() if line[:1].isupper()]
    copies = [line.split()[1:-1] for line in dockerfile.splitlines() if line.startswith("COPY")]
    assert copies[0] == ["pyproject.toml"] and steps[steps.index("COPY") + 1] == "RUN"
    assert "pip install -r" in dockerfile.split("COPY README.md")[0]


# --- The real thing: `docker compose up` on a real Docker engine -------------------------------------------

COMPOSE_TIMEOUT_S = 900  # a fresh machine builds the image (pip installs every dependency) before the run
# The talk's sleep rows are physics (N × sleep, or one sleep): a run cannot beat them by more than the talk's
# own overhead, but a loaded machine (containers, image builds beside the run) may add to them.
SLEEP_ROW_FASTEST, SLEEP_ROW_SLOWEST = 0.97, 1.25
# A user id that is not root's, when the tests run as root: the results must belong to whoever runs compose.
NON_ROOT_IDS = (4242, 4242)
WORKERS = 3  # not the file's default of 2
CACHE_TAG = "djload-test-cache"


def compose_command() -> list[str] | None:
    """`docker compose` (v2) where the plugin is there, else `docker-compose` (1.29); None if neither is."""
    try:
        if subprocess.run(["docker", "compose", "version"], capture_output=True, timeout=30).returncode == 0:
            return ["docker", "compose"]
    except (FileNotFoundError, subprocess.TimeoutExpired):
        pass
    return ["docker-compose"] if shutil.which("docker-compose") else None


@pytest.fixture(scope="module")
def engine() -> list[str]:
    """A Docker engine that answers (started if need be) and the base image; skipped only where no engine can be."""
    compose = compose_command()
    if compose is None:
        pytest.skip("neither `docker compose` nor `docker-compose` is installed (scripts/setup installs it as root)")
    started = subprocess.run([ROOT / "scripts" / "docker-engine"], capture_output=True, text=True, timeout=120)
    if started.returncode != 0:
        pytest.skip(f"no Docker engine: {started.stderr.strip()}")
    base = subprocess.run([ROOT / "scripts" / "base-image"], capture_output=True, text=True, timeout=900)
    assert base.returncode == 0, base.stderr  # an engine but no base image is a failure, not a skip
    return compose


@pytest.fixture
def clean_copy(tmp_path: Path) -> Path:
    """The repository's committed files alone: no results/, .venv or caches of this checkout in the build."""
    if not (ROOT / ".git").exists():
        pytest.skip(f"{ROOT} is not a git checkout: no clean copy to build from")
    copy = tmp_path / "djload"
    copy.mkdir()
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", "HEAD"], capture_output=True, check=True, timeout=60)
    subprocess.run(["tar", "-x", "-C", str(copy)], input=archive.stdout, check=True, timeout=60)
    return copy


def talk_sleep_rows() -> dict[str, dict[str, float]]:
    """The talk's numbers for its sleep rows (scenarios/talk/*.yaml `expected:` where the view sleeps)."""
    rows = {}
    for path in sorted((ROOT / "scenarios" / "talk").glob("*.yaml")):
        data = yaml.safe_load(path.read_text())
        if data.get("sleep"):
            rows[data["name"]] = data["expected"]
    return rows


def _image_id(tag: str) -> str:
    found = subprocess.run(["docker", "image", "inspect", "-f", "{{.Id}}", tag], capture_output=True, text=True,
                           timeout=60)  # fmt: skip
    return found.stdout.strip() if found.returncode == 0 else ""


def keep_as_cache(image: str) -> None:
    """The run's image becomes djload-test-cache (the next build reuses its layers); the one it replaces goes."""
    before = _image_id(CACHE_TAG)
    subprocess.run(["docker", "tag", image, CACHE_TAG], capture_output=True, timeout=60)
    subprocess.run(["docker", "rmi", image], capture_output=True, timeout=60)
    if before and before != _image_id(CACHE_TAG):
        subprocess.run(["docker", "rmi", before], capture_output=True, timeout=60)  # refused if still in use


def test_compose_up_reproduces_the_talk(engine: list[str], clean_copy: Path) -> None:
    ids = NON_ROOT_IDS if os.getuid() == 0 else (os.getuid(), os.getgid())
    results = clean_copy / "results"
    results.mkdir()
    os.chown(results, *ids)
    project = f"djloadtest{os.getpid()}{uuid.uuid4().hex[:6]}"
    # An image tag of its own, so that a compose run elsewhere on the machine never swaps it under this one;
    # kept afterwards as CACHE_TAG, whose layers let the next build start past the dependencies.
    image = f"djload-test-{project}"
    env = {key: value for key, value in os.environ.items() if key not in ("WORKERS", "COMPOSE_FILE")}
    env |= {"COMPOSE_PROJECT_NAME": project, "DJLOAD_IMAGE": image, "UID": str(ids[0]), "GID": str(ids[1])}

    def compose(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*engine, *args], cwd=clean_copy, env=env, capture_output=True, text=True,
                              timeout=timeout)  # fmt: skip

    try:
        # --scale rather than WORKERS: the master must take the workers that are there.
        up = compose("up", "--build", "--scale", f"worker={WORKERS}", "--exit-code-from", "master",
                     timeout=COMPOSE_TIMEOUT_S)  # fmt: skip
        assert up.returncode == 0, (up.stdout + up.stderr)[-4000:]
    finally:
        down = compose("down", "-v", "--remove-orphans")
        keep_as_cache(image)
    assert down.returncode == 0, down.stderr
    left = subprocess.run(["docker", "ps", "-aq", "--filter", f"label=com.docker.compose.project={project}"],
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert left.stdout.strip() == "", "containers left behind"

    (folder,) = [path for path in results.iterdir() if path.name.endswith("-talk")]
    summary = folder / "summary.json"
    assert (summary.stat().st_uid, summary.stat().st_gid) == ids  # the invoking user's, not root's
    rows = {row["scenario"]: row for row in json.loads(summary.read_text())}
    assert all(row["status"] == "completed" for row in rows.values()), {n: r["problem"] for n, r in rows.items()}
    talk = talk_sleep_rows()
    assert set(talk) <= set(rows) and len(talk) == 4
    for name, expected in talk.items():
        row = rows[name]
        assert (row["completed_requests"], row["total_errors"]) == (expected["completed_requests"], 0), name
        for key in ("total_time_s", "mean_latency_ms"):
            assert SLEEP_ROW_FASTEST * expected[key] <= row[key] <= SLEEP_ROW_SLOWEST * expected[key], (name, key)
    # As complete as a local run: the sites' CPU and log lines per scenario, the workers' own CPU.
    for name, row in rows.items():
        assert row["locust_processes"] == WORKERS and row["generator_capacity_cpus"] >= 1, name
        assert row["generator_busy_percent"] > 0 and row["server_cpu_ms_per_request"] > 0, name
        access = (folder / name / "access.log").read_text().splitlines()
        assert len(access) == row["completed_requests"], name  # the run's own lines, not the warm-up's
        assert (folder / name / "server.log").exists(), name
    for name in talk:  # the sleeping views log when they start and end
        assert rows[name]["log_views_started"] == rows[name]["completed_requests"], name
    # The talk's point, from the sites' logs: ten threads for the sync view under ASGI, one under WSGI.
    assert (rows["asgi-sync"]["log_distinct_threads"], rows["wsgi-sync"]["log_distinct_threads"]) == (10, 1)
    assert (rows["asgi-async"]["log_peak_in_view"], rows["wsgi-async"]["log_peak_in_view"]) == (10, 1)
