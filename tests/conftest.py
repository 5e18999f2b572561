"""Shared helpers: scenario files written on the fly with short sleeps, and a leak check."""

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
import yaml

ScenarioFactory = Callable[..., Path]


@pytest.fixture
def scenario_file(tmp_path: Path) -> ScenarioFactory:
    """Write a scenario YAML file; keyword arguments override sections of a short ASGI run."""

    def make(name: str = "short", **overrides: Any) -> Path:
        data: dict[str, Any] = {
            "name": name,
            "server": {"mode": "asgi", "workers": 1},
            "endpoint": {"path": "/async/non-blocking/"},
            "sleep": 0.2,
            "swarm": {"users": 10, "requests_per_user": 1},
        }
        data.update(overrides)
        path = tmp_path / "scenarios" / f"{name}.yaml"
        path.parent.mkdir(exist_ok=True)
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        return path

    return make


@pytest.fixture(autouse=True)
def no_leftover_processes() -> Iterator[None]:
    """Every test must leave no child process behind: servers and locust are stopped by their owner."""
    yield
    children = psutil.Process().children(recursive=True)
    alive = [p for p in children if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    for process in alive:
        process.kill()
    assert not alive, f"processes left behind: {[' '.join(p.cmdline()) for p in alive]}"
