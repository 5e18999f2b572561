"""docker-compose.yml and the Dockerfile, checked without a container engine: `docker-compose config`
must accept the file, and every service's command must be one djload accepts, for the scenarios it names."""

import os
import re
import shlex
import subprocess
from typing import Any

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
    assert master.command == "run" and master.workers == services["worker"]["scale"] == 3
    targets = dict(master.target)
    for scenario in load(master.paths):
        site = re.match(r"http://([\w-]+):", targets[scenario.server.mode])
        assert site and modes[site.group(1)] == scenario.server.mode, scenario.name
    assert cli._where(master).master_bind is not None

    worker = djload_args(services["worker"])
    assert (worker.command, str(worker.master)) == ("worker", f"master:{master.external_workers.port}")
    ui = djload_args(compose_config("--profile", "ui")["ui"])
    assert ui.command == "ui" and dict(ui.target) == targets


def test_the_image_is_built_from_the_projects_own_files() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    sources = [word for line in dockerfile.splitlines() if line.startswith("COPY") for word in line.split()[1:-1]]
    assert sources and all((ROOT / source).exists() for source in sources)
    assert "pip install -e ." in dockerfile
    assert not list(ROOT.glob("requirements*.txt"))  # pyproject.toml is the one dependency list
