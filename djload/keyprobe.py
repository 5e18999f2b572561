"""Runs inside a user's Django project, never in djload's own process: ``python -m djload.keyprobe OUT LIMIT MODEL...``.

djload/project.py starts it as it starts djload/urlprobe.py (the project's folder, its settings), once the
project's setup has run: it reads the primary keys of each MODEL (app_label.Model) through the model's
default manager, as a DetailView reads its object, in order, at most LIMIT of them, and writes them as
text to OUT as JSON. It imports nothing from djload.
"""

import json
import sys
import traceback
from typing import Any


def _last_line(exc: BaseException) -> str:
    return traceback.format_exception_only(type(exc), exc)[-1].strip()


def probe(limit: int, labels: list[str]) -> dict[str, Any]:
    try:
        import django

        django.setup()
        from django.apps import apps

        found: dict[str, list[str]] = {}
        for label in labels:
            model = apps.get_model(label)
            keys = model._default_manager.order_by("pk").values_list("pk", flat=True)[:limit]
            found[label] = [str(key) for key in keys]
    except (Exception, SystemExit) as exc:
        return {"error": _last_line(exc)}
    return {"keys": found}


def main(argv: list[str]) -> int:
    out, limit, *labels = argv
    result = probe(int(limit), labels)
    with open(out, "w", encoding="utf-8") as file:
        json.dump(result, file)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
