"""command-lines.txt: the exact commands of a run, to repeat it by hand.

Each line is ``server: ARGV`` or ``locust: ARGV``, the argv written with ``shlex.join``, so that what
follows the label, pasted into a shell (or read back with ``shlex.split``), is the argv that ran. A run
writes into its ``.NAME.partial`` folder and renames it at the end: `relocate` then rewrites the paths
into the folder's final ones, which are only known once the run is over (an -interrupted suffix, a free
name when the wanted one was taken meanwhile).
"""

import contextlib
import shlex
from pathlib import Path

NAME = "command-lines.txt"
LABELS = ("server", "locust")


def text(server_argv: list[str] | None, host: str, locust_argv: list[str]) -> str:
    server_line = shlex.join(server_argv) if server_argv else f"# already running at {host}"
    return f"server: {server_line}\nlocust: {shlex.join(locust_argv)}\n"


def write(out_dir: Path, server_argv: list[str] | None, host: str, locust_argv: list[str]) -> None:
    (out_dir / NAME).write_text(text(server_argv, host, locust_argv))


def read(path: Path) -> dict[str, list[str]]:
    """The argv of each labelled line ("server", "locust"); a server already running has none."""
    argvs = {}
    for line in path.read_text().splitlines():
        label, _, rest = line.partition(": ")
        if label in LABELS and not rest.startswith("#"):
            argvs[label] = shlex.split(rest)
    return argvs


def _moved(argument: str, old: str, new: str) -> str:
    """argument with a path under the folder old (the argument, or an option's value after '=') under new."""
    option, equals, value = argument.partition("=") if argument.startswith("-") else ("", "", argument)
    if value == old or value.startswith(old + "/"):
        return option + equals + new + value[len(old) :]
    return argument


def relocate(folder: Path, old: Path) -> None:
    """Rewrite each command-lines.txt under folder (renamed from old) to name paths under folder.

    Best effort: a file that cannot be rewritten (a full disk) keeps the paths the run had.
    """
    for path in folder.rglob(NAME):
        with contextlib.suppress(OSError, ValueError):
            lines = []
            for line in path.read_text().splitlines():
                label, _, rest = line.partition(": ")
                if label in LABELS and not rest.startswith("#"):
                    argv = [_moved(argument, str(old), str(folder)) for argument in shlex.split(rest)]
                    line = f"{label}: {shlex.join(argv)}"
                lines.append(line)
            path.write_text("".join(line + "\n" for line in lines))
