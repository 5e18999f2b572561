"""The djload command: argument parsing, exit codes, and the stages wired together.

Exit codes: 0 every scenario completed · 1 a run failed (errors, wrong count, locust failed) ·
2 bad input (scenario files, arguments) · 3 a server did not boot · 130 interrupted.
"""

import argparse
import signal
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn

from djload import metrics, report, servers, swarm
from djload.results import ResultsError, RunFolder, machine_metadata, now_iso, write_json
from djload.scenario import Scenario, ScenarioError, load

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_BOOT, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


class Interrupted(Exception):
    """SIGINT or SIGTERM arrived; raised in the main thread so that every cleanup block runs."""


def _interrupt(signum: int, frame: FrameType | None) -> NoReturn:
    raise Interrupted(signal.Signals(signum).name)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message}\n")


def _positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, got {text!r}")
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="djload", description="Load-test the talk's Django site under WSGI and ASGI server modes.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    run = commands.add_parser("run", help="run scenarios headless and print the slide's table")
    run.add_argument("paths", nargs="+", metavar="PATH", help="scenario file or folder of them")
    run.add_argument("--out", type=Path, help="results folder to create (default: a new one under results/)")
    run.add_argument(
        "--workers", type=_positive_int, metavar="N",
        help="locust processes for every scenario, overriding swarm.processes: N > 1 is a master and N workers",
    )  # fmt: skip

    serve = commands.add_parser("serve", help="boot the site as a scenario says and serve until Ctrl-C")
    serve.add_argument("scenario", metavar="SCENARIO", help="scenario file")
    serve.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    return parser


def _entry(scenario: Scenario, started: str) -> dict[str, Any]:
    return {
        "scenario": scenario.name,
        "description": scenario.description,
        "source": scenario.source,
        "server_mode": scenario.server.mode,
        "workers": scenario.server.workers,
        "threads": scenario.server.threads,
        "endpoint": scenario.endpoint.url_path,
        "sleep_s": scenario.sleep,
        "users": scenario.swarm.users,
        "requests_per_user": scenario.swarm.requests_per_user,
        "locust_processes": scenario.swarm.processes,
        "expected_requests": scenario.swarm.total_requests,
        "expected": scenario.expected,
        "started_at": started,
        "status": "interrupted",
        "problem": "",
    }


def run_scenario(scenario: Scenario, out_dir: Path, entry: dict[str, Any]) -> None:
    """Boot, swarm, stop, measure; fills entry in place so that an interruption keeps what is known."""
    with servers.serve(scenario, out_dir) as server:
        entry["server_command"] = server.argv
        entry["boot_s"] = server.boot_s
        entry["locust_command"] = swarm.command(scenario, server.base_url, out_dir)
        (out_dir / "command-lines.txt").write_text(
            "server: " + " ".join(server.argv) + "\nlocust: " + " ".join(entry["locust_command"]) + "\n"
        )
        result = swarm.run(scenario, server.base_url, out_dir)
    entry.update(metrics.summarize(result.records))
    expected = scenario.swarm.total_requests
    if entry["completed_requests"] != expected:
        entry.update(status="failed", problem=f"{entry['completed_requests']} of {expected} requests recorded")
    elif entry["total_errors"]:
        entry.update(status="failed", problem=f"{entry['total_errors']} requests failed")
    else:
        entry["status"] = "completed"


def with_processes(scenarios: list[Scenario], processes: int) -> list[Scenario]:
    """--workers N: the same scenarios, each swarmed by N locust processes."""
    too_few = [s for s in scenarios if s.swarm.users < processes]
    if too_few:
        raise ScenarioError(
            [f"{s.source}: swarm.users is {s.swarm.users}, fewer than --workers {processes}" for s in too_few]
        )
    return [replace(s, swarm=replace(s.swarm, processes=processes)) for s in scenarios]


def cmd_run(args: argparse.Namespace) -> int:
    scenarios = load(args.paths)
    if args.workers:
        scenarios = with_processes(scenarios, args.workers)
    label = Path(args.paths[0]).stem if len(args.paths) == 1 else "run"
    folder = RunFolder(args.out) if args.out else RunFolder.new(label)
    machine = machine_metadata()
    results: list[dict[str, Any]] = []
    code = EXIT_OK
    try:
        for scenario in scenarios:
            entry = _entry(scenario, now_iso())
            entry["metadata"] = machine
            results.append(entry)
            print(f"running {scenario.name}: {scenario.server.mode} {scenario.endpoint.url_path} ...", file=sys.stderr)
            try:
                run_scenario(scenario, folder.scenario_dir(scenario.name), entry)
            except servers.BootError as exc:
                entry.update(status="boot_failed", problem=str(exc))
                code = EXIT_BOOT
            except swarm.SwarmError as exc:
                entry.update(status="failed", problem=str(exc))
            if entry["status"] != "completed":
                print(f"{scenario.name}: {entry['status']}: {entry['problem']}", file=sys.stderr)
                code = code or EXIT_FAILED
    except Interrupted:
        code = EXIT_INTERRUPTED
    finally:
        write_json(folder.path / "summary.json", results)
        final = folder.finish()
    print(report.table(results))
    print(f"\nresults: {final}")
    return code


def cmd_serve(args: argparse.Namespace) -> int:
    (scenario,) = load([args.scenario])
    folder = RunFolder.new(f"serve-{scenario.name}")
    try:
        with servers.serve(scenario, folder.path, port=args.port or None) as server:
            print(f"{scenario.name}: {scenario.server.mode} serving {server.base_url}{scenario.endpoint.url_path}")
            print(f"server log: {folder.path / 'server.log'}; press Ctrl-C to stop", flush=True)
            while server.process.poll() is None:
                time.sleep(0.2)
            print(f"server exited with code {server.process.returncode}", file=sys.stderr)
            return EXIT_FAILED
    except Interrupted:
        return EXIT_INTERRUPTED
    finally:
        folder.finish()


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        if args.command == "run":
            return cmd_run(args)
        return cmd_serve(args)
    except ScenarioError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return EXIT_BAD_INPUT
    except ResultsError as exc:
        print(f"djload: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except servers.BootError as exc:
        print(f"djload: {exc}", file=sys.stderr)
        return EXIT_BOOT
    except Interrupted:
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
