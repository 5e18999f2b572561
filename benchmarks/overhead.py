"""The whole `djload run` of the talk's four sleep scenarios, over the 44 s of waiting they hold.

    .venv/bin/python benchmarks/overhead.py

The four scenarios (ASGI async and sync, WSGI async and sync; 10 requests of a 2 s view each) hold
2 + 2 + 20 + 20 = 44 s of physical waiting: one gunicorn sync worker serialises ten sleeps. Everything
above that is djload's own cost: starting Python, booting and stopping four servers, starting four
locust processes, writing the results and the report. The command runs as a user runs it, in a fresh
process, into a temporary results folder; the last line is its wall time over 44 s.
"""

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from djload import ROOT

TALK = ROOT / "scenarios" / "talk"
SCENARIOS = ("asgi-async", "asgi-sync", "wsgi-async", "wsgi-sync")
WAITING_S = 44.0


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="djload-overhead-") as tmp:
        out = Path(tmp) / "out"
        argv = [str(Path(sys.executable).parent / "djload"), "run", *(str(TALK / f"{s}.yaml") for s in SCENARIOS),
                "--out", str(out)]  # fmt: skip
        started = time.monotonic()
        done = subprocess.run(argv, capture_output=True, text=True, timeout=300)
        wall = time.monotonic() - started
        if done.returncode != 0:
            print(done.stdout + done.stderr, file=sys.stderr)
            print(f"djload run failed with exit code {done.returncode}", file=sys.stderr)
            return 1
        for entry in json.loads((out / "summary.json").read_text()):
            print(f"{entry['scenario']:<12} total {entry['total_time_s']:.3f} s, boot to ready {entry['boot_s']:.3f} s")
    print(f"djload run of the talk's four sleep scenarios: {wall:.2f} s wall for {WAITING_S:g} s of waiting")
    print(f"wall time / {WAITING_S:g} s: {wall / WAITING_S:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
