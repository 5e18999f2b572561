"""``python -m djload.locustcheck FILE``: import a user's Locust file as locust does, in a process of its own.

Importing locust patches the process with gevent, so djload asks this subprocess (djload/userlocust.py)
and reads its exit status; on failure, the last line it prints is the import error's own last line.
"""

import importlib.util
import sys
import traceback
from pathlib import Path


def main(argv: list[str]) -> int:
    path = Path(argv[0])
    import locust  # noqa: F401 - first, as in a locust process: the file may rely on its patching

    sys.path.insert(0, str(path.parent))  # as locust does: the file's helpers beside it import
    try:
        spec = importlib.util.spec_from_file_location(path.stem, path)
        if spec is None or spec.loader is None:
            print(f"{path.name} is not a Python file locust can import")
            return 1
        module = importlib.util.module_from_spec(spec)
        sys.modules[path.stem] = module
        spec.loader.exec_module(module)
    except BaseException as exc:  # noqa: BLE001 - whatever the file raises is its problem to report
        print(traceback.format_exception_only(type(exc), exc)[-1].strip())
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
