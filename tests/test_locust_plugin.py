"""djload's Locust plugin is for locust processes only: the orchestrator never imports locust."""

import pkgutil
import subprocess
import sys

import djload

ORCHESTRATOR = [
    f"djload.{module.name}" for module in pkgutil.iter_modules(djload.__path__) if module.name != "locust_plugin"
]


def test_no_djload_module_but_the_plugin_imports_locust_or_gevent() -> None:
    # Importing locust monkey-patches the process with gevent; a fresh interpreter shows what each import pulls in.
    code = (
        f"import sys\nfor name in {ORCHESTRATOR!r}: __import__(name)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('locust', 'gevent')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.strip() == "[]"
    assert "djload.cli" in ORCHESTRATOR and "djload.swarm" in ORCHESTRATOR
