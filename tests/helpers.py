"""What several test modules use: the djload command as a subprocess, one short run, the broken scenario files."""

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

SLEEP = 0.2
SUMMARY_KEYS = {
    "scenario",
    "server_mode",
    "endpoint",
    "completed_requests",
    "total_errors",
    "total_time_s",
    "mean_latency_ms",
    "effective_rps",
}


def djload(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "djload.cli", *map(str, args)], capture_output=True, text=True, timeout=300, cwd=cwd
    )


def run_one(scenario: Path, out: Path, *options: str) -> dict[str, Any]:
    done = djload("run", scenario, "--out", out, *options)
    assert done.returncode == 0, done.stderr + done.stdout
    (result,) = json.loads((out / "summary.json").read_text())
    assert set(result) >= SUMMARY_KEYS
    return dict(result)


# Each broken file, and the one problem line it must give (after "file:line: ").
SERVER, ENDPOINT, SWARM = "server: {mode: wsgi}\n", "endpoint: {path: /sync/blocking/}\n", "swarm: {users: 1}\n"
BROKEN = {
    "unknown-mode": ("server: {mode: wsgii}\nendpoint: {path: /sync/blocking/}\nswarm: {users: 1}\n",
                     "1: server.mode: unknown value 'wsgii'; did you mean 'wsgi'?"),
    "unknown-endpoint": ("server: {mode: wsgi}\nendpoint: {path: /sync/blocking}\nswarm: {users: 1}\n",
                         "2: endpoint.path: unknown value '/sync/blocking'; did you mean '/sync/blocking/'?"),
    "unknown-key": (SERVER + ENDPOINT + "swarm: {users: 1, timout: 5}\n",
                    "3: swarm.timout: unknown key; did you mean 'timeout'?"),
    "unknown-section": (SERVER + ENDPOINT + SWARM + "slep: 2\n",
                        "4: slep: unknown key; did you mean 'sleep'?"),
    "wrong-type": ("server: {mode: wsgi, workers: two}\nendpoint: {path: /sync/blocking/}\nswarm: {users: 1}\n",
                   "1: server.workers: must be an integer, got 'two'"),
    "bool-as-number": (SERVER + ENDPOINT + "swarm: {users: true}\n",
                       "3: swarm.users: must be an integer, got True"),
    "float-as-int": (SERVER + ENDPOINT + "swarm: {users: 1.5}\n",
                     "3: swarm.users: must be an integer, got 1.5"),
    "negative-sleep": (SERVER + ENDPOINT + SWARM + "sleep: -1\n",
                       "4: sleep: must be from 0 to 3600, got -1.0"),
    "infinite-sleep": (SERVER + ENDPOINT + SWARM + "sleep: .inf\n",
                       "4: sleep: must be a finite number, got inf"),
    "nan-timeout": (SERVER + ENDPOINT + "swarm: {users: 1, timeout: .nan}\n",
                    "3: swarm.timeout: must be a finite number, got nan"),
    "zero-timeout": (SERVER + ENDPOINT + "swarm: {users: 1, timeout: 0}\n",
                     "3: swarm.timeout: must be greater than 0 and at most 3600, got 0.0"),
    "too-many-users": (SERVER + ENDPOINT + "swarm: {users: 10000000}\n",
                       "3: swarm.users: must be from 1 to 100000, got 10000000"),
    "zero-workers": ("server: {mode: wsgi, workers: 0}\nendpoint: {path: /sync/blocking/}\nswarm: {users: 1}\n",
                     "1: server.workers: must be from 1 to 64, got 0"),
    "negative-spawn-rate": (SERVER + ENDPOINT + "swarm: {users: 1, spawn_rate: -2}\n",
                            "3: swarm.spawn_rate: must be from 0 to 100000, got -2.0"),
    "bad-query": (SERVER + "endpoint: {path: /sync/computation/, query: {times: [1]}}\n" + SWARM,
                  "2: endpoint.query.times: must be a string or a number, got [1]"),
    "bad-times": (SERVER + "endpoint: {path: /sync/computation/, query: {times: lots}}\n" + SWARM,
                  "2: endpoint.query.times: must be a whole number of at least 0, got 'lots'"),
    "path-in-name": ("name: ../escape\n" + SERVER + ENDPOINT + SWARM,
                     "1: name: must be letters, digits, '.', '_' or '-', starting with a letter or digit; "
                     "got '../escape'"),
    "missing-section": (SERVER + ENDPOINT ,
                        "1: swarm: missing; it must be a mapping with users"),
    "missing-field": ("server: {workers: 1}\nendpoint: {path: /sync/blocking/}\nswarm: {users: 1}\n",
                      "1: server.mode: missing; it must be a string"),
    "section-not-mapping": ("server: wsgi\nendpoint: {path: /sync/blocking/}\nswarm: {users: 1}\n",
                            "1: server: must be a mapping, got 'wsgi'"),
    "duplicate-key": (SERVER + ENDPOINT + SWARM + "swarm: {users: 2}\n",
                      "4: swarm: given twice in one mapping"),
    "bad-expected": (SERVER + ENDPOINT + SWARM + "expected: {total_time: 2}\n",
                     "4: expected.total_time: unknown key; did you mean 'total_time_s'?"),
    "invalid-yaml": ("server: {mode: wsgi\nendpoint: {path: /sync/blocking/}\n",
                     "2:9: invalid YAML: expected ',' or '}', but got ':'"),
    "tab-indent": ("server:\n\tmode: wsgi\n", "2:1: invalid YAML: found character '\\t' that cannot start any token"),
    "not-a-mapping": ("- server\n- endpoint\n", "1: the file must hold a mapping of scenario fields"),
    "empty": ("", "1: the file must hold a mapping of scenario fields"),
    "unknown-engine": (SERVER + ENDPOINT + SWARM + "database: {engine: postgress}\n",
                       "4: database.engine: unknown value 'postgress'; did you mean 'postgres'?"),
    "database-key": (SERVER + ENDPOINT + SWARM + "database: {engine: postgres, conn_max_ages: 5}\n",
                     "4: database.conn_max_ages: unknown key; did you mean 'conn_max_age'?"),
    "pool-on-sqlite": (SERVER + ENDPOINT + SWARM + "database: {engine: sqlite, pool: true}\n",
                       "4: database.pool: only for engine: postgres"),
    "pool-and-persistent": (SERVER + ENDPOINT + SWARM + "database:\n  engine: postgres\n  pool: true\n"
                            "  conn_max_age: 60\n",
                            "7: database.conn_max_age: must be 0 with pool: true; the pool keeps the connections open"),
    "bad-database-url": (SERVER + ENDPOINT + SWARM + "database: {engine: postgres, url: 'mysql://h/db'}\n",
                         "4: database.url: must be a postgresql://user@host:port/name URL, got 'mysql://h/db'"),
}  # fmt: skip
