"""What a Django site is to djload: a value. The talk's bundled site is one instance.

A site says where its project lives (the folder a server runs in), how Django finds it (settings
module, WSGI and ASGI application paths), which path answers once it is up, and what each of its views
does while it holds a request: the ideal model and the report ask this instead of reading URLs.
"""

from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from djload import ROOT
from djload.djangofacts import DjangoFacts


class Work(Enum):
    """What a view spends a request's time on."""

    SLEEP = "sleep"  # waits the scenario's `sleep` seconds and uses no CPU
    UPSTREAM = "upstream HTTP"  # calls an upstream service that waits the scenario's `sleep` seconds
    DATABASE_READ = "database read"  # reads rows of the site's database by an indexed key
    DATABASE_WRITE = "database write"  # inserts a row into the site's database
    COMPUTATION = "computation"  # counts down the query's `times` on the CPU
    NOTHING = "nothing"  # answers at once
    UNKNOWN = "unknown"  # a user's project: what its views do is theirs; the queueing model does not guess


@dataclass(frozen=True)
class View:
    """One URL path of a site and what its view does."""

    path: str
    work: Work
    is_async: bool
    # Waits by holding its thread (time.sleep, a blocking client) instead of awaiting; inside an async
    # view that stalls the whole event loop.
    blocking: bool = False

    @property
    def waits_sleep(self) -> bool:
        """Its time is the scenario's sleep without CPU, so the queueing model predicts its runs."""
        return self.work in (Work.SLEEP, Work.UPSTREAM)

    @property
    def needs_database(self) -> bool:
        return self.work in (Work.DATABASE_READ, Work.DATABASE_WRITE)

    @property
    def needs_upstream(self) -> bool:
        return self.work is Work.UPSTREAM

    @property
    def kind(self) -> str:
        """The talk's words: sleeping, blocking or computation, sync or async."""
        interface = "async" if self.is_async else "sync"
        if self.work is Work.UNKNOWN:
            return interface
        if self.work is Work.SLEEP:
            return f"{interface}, {'blocking' if self.blocking else 'sleeping'}"
        return f"{interface}, {self.work.value}"


@dataclass(frozen=True)
class Site:
    name: str
    folder: Path  # the server's working directory: the folder that holds the project's package
    settings: str  # DJANGO_SETTINGS_MODULE
    wsgi: str  # the WSGI application, as gunicorn takes it ("package.wsgi" or "package.wsgi:application")
    asgi: str  # the ASGI application, "package.asgi:application"
    views: tuple[View, ...]
    ready: str = "/health/"  # polled until it answers; the site is up from then on
    env: tuple[tuple[str, str], ...] = field(default=())  # extra environment for its setup and server
    # A user's project (a scenario's `site:`), not the bundled site: any answer below 500 on its ready
    # path means it is up, as it sends none of the bundled site's X-Worker-Pid headers.
    project: bool = False
    setup: tuple[str, ...] = ()  # shell commands run in its folder before each boot
    # A project's own settings, read by its probe: LOGIN_URL as a path ("" when none resolves), and the
    # names of its session and CSRF cookies (Django's defaults until the probe says otherwise).
    login_url: str = ""
    session_cookie: str = "sessionid"
    csrf_cookie: str = "csrftoken"
    # A project's middleware and databases, as its probe read them (check_paths); None: not read (the bundled site).
    facts: DjangoFacts | None = None

    def application(self, interface: str) -> str:
        """The application path a server of this interface ('wsgi' or 'asgi') loads."""
        return {"wsgi": self.wsgi, "asgi": self.asgi}[interface]

    @property
    def label(self) -> str:
        """How a summary row names this site: the bundled site's name, or a project's folder and settings
        (an absolute path, so never the bundled site's name)."""
        return f"{self.folder} ({self.settings})" if self.project else self.name

    @property
    def paths(self) -> list[str]:
        return [view.path for view in self.views]

    def view(self, path: str) -> View | None:
        """The view at a URL path (a query string is ignored); None when the site has no such path."""
        path = path.split("?", 1)[0]
        return next((view for view in self.views if view.path == path), None)


# The talk's project: its routes are in site/django_adjango/urls.py, which must list the same paths
# (a test holds them together; the site itself never imports djload).
BUNDLED = Site(
    name="django_adjango",
    folder=ROOT / "site",
    settings="django_adjango.settings",
    wsgi="django_adjango.wsgi",  # as the talk's slide starts it
    asgi="django_adjango.asgi:application",
    views=(
        View("/async/non-blocking/", Work.SLEEP, is_async=True),
        View("/sync/blocking/", Work.SLEEP, is_async=False, blocking=True),
        View("/async/blocking/", Work.SLEEP, is_async=True, blocking=True),
        View("/sync/computation/", Work.COMPUTATION, is_async=False),
        View("/async/computation/", Work.COMPUTATION, is_async=True),
        View("/db/sync/", Work.DATABASE_READ, is_async=False),
        View("/db/async/", Work.DATABASE_READ, is_async=True),
        View("/db/write/sync/", Work.DATABASE_WRITE, is_async=False),
        View("/db/write/async/", Work.DATABASE_WRITE, is_async=True),
        # A sync HTTP client holds its thread while it waits (cooperatively so under gevent).
        View("/http/sync/", Work.UPSTREAM, is_async=False, blocking=True),
        View("/http/async/", Work.UPSTREAM, is_async=True),
        View("/health/", Work.NOTHING, is_async=False),
    ),
)


def of_row(label: str) -> Site | None:
    """The site a summary row names (its `site`), when djload knows what its views do: the bundled site,
    also for rows written before rows named their site (""). None for a user's project: what its views do
    is its own, so a path it shares with the bundled site says nothing about its work."""
    return BUNDLED if label in ("", BUNDLED.name) else None
