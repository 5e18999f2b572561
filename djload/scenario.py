"""Scenario files (YAML) → validated, frozen Scenario objects.

The reading and checking machinery is yamlcheck (every problem at once, file:line, did-you-mean),
matrix files expand in matrix, CPU lists are read by cpus; here are the scenario's parts and the rules
its fields follow.
"""

import urllib.parse
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from djload import capacityspec, layout, masking, matrix, userlocust, usersite, values
from djload import cpus as cpu_lists
from djload import login as logins
from djload.capacityspec import Capacity
from djload.modes import MODES
from djload.sites import BUNDLED, Site, Work
from djload.thresholds import Threshold
from djload.thresholds import parse as parse_threshold
from djload.userlocust import UserLocustfile
from djload.usersite import Request
from djload.yamlcheck import Checker, Map, at_least, between, one_of, positive, read, shown, shown_text
from djload.yamlcheck import ScenarioError as ScenarioError  # raised by load: its callers catch it from here


@dataclass(frozen=True)
class Server:
    mode: str
    workers: int = 1
    threads: int = 1


DATABASE_ENGINES = ("sqlite", "postgres")
# Each section's keys, the checker's one list of them (the scenario reference is held to these by a test).
SERVER_KEYS = ("mode", "workers", "threads")
ENDPOINT_KEYS = ("path", "query")
CPUS_KEYS = ("server", "generator")
DATABASE_KEYS = ("engine", "pool", "conn_max_age", "url")
MAX_CONN_MAX_AGE = 86_400


@dataclass(frozen=True)
class Database:
    """The scenario's `database:` section: which database the site's database views use."""

    engine: str = "sqlite"  # sqlite: a file in the scenario's results folder; postgres: a server
    pool: bool = False  # postgres only: Django's psycopg connection pool (OPTIONS pool)
    conn_max_age: int = 0  # Django's CONN_MAX_AGE: seconds a connection outlives its request
    url: str | None = None  # postgres only: an existing server instead of one booted for the run


@dataclass(frozen=True)
class Endpoint:
    path: str
    query: tuple[tuple[str, str], ...] = ()

    @property
    def query_string(self) -> str:
        """Keys and values percent-encoded: a value is one value, whatever characters it holds."""
        return urllib.parse.urlencode(self.query)

    @property
    def url_path(self) -> str:
        return self.path + "?" + self.query_string if self.query else self.path


USER_CLASSES = ("fast", "http")  # locust's FastHttpUser and HttpUser
MODELS = ("closed", "open")
REFERENCE_TOOLS = ("wrk", "oha")  # swarm.reference: a C or Rust generator run after the swarm (djload.reference)


@dataclass(frozen=True)
class Swarm:
    users: int
    requests_per_user: int = 1
    spawn_rate: float = 0.0  # 0 means all users at once
    timeout_s: float = 60.0
    processes: int = 1  # load-generating processes: 1 is Locust's local runner, N > 1 a master and N workers
    # A throughput run (one given a duration) defaults to FastHttpUser, a fixed count to HttpUser.
    user_class: str = "http"
    duration_s: float | None = None  # run for this long instead of a request count
    model: str = "closed"
    rate: float | None = None  # open model: requests per second, sent at fixed times
    warmup: int = 0  # requests sent before the measured run, not counted
    reference: str | None = None  # a tool in REFERENCE_TOOLS run against the same server after the swarm

    @property
    def total_requests(self) -> int | None:
        """Requests the run must record; None when only its duration is fixed (a closed throughput run)."""
        if self.model == "open":
            assert self.rate is not None and self.duration_s is not None
            return round(self.rate * self.duration_s)
        if self.duration_s is not None:
            return None
        return self.users * self.requests_per_user

    @property
    def effective_spawn_rate(self) -> float:
        return self.spawn_rate or float(self.users)

    @property
    def spawn_s(self) -> float:
        return self.users / self.effective_spawn_rate

    @property
    def longest_s(self) -> float:
        """The longest the swarm can take: each user's requests run one after another, each bounded by the
        timeout (or its duration, plus one timeout for the last answers), after the warm-up's requests."""
        length = self.duration_s if self.duration_s is not None else self.requests_per_user * self.timeout_s
        last = self.timeout_s if self.duration_s is not None else 0.0
        return self.warmup * self.timeout_s + self.spawn_s + length + last


@dataclass(frozen=True)
class Placement:
    """CPUs the server and the load generator may run on; empty means every CPU (no pinning)."""

    server: tuple[int, ...] = ()
    generator: tuple[int, ...] = ()

    @property
    def pinned(self) -> bool:
        return bool(self.server or self.generator)


@dataclass(frozen=True)
class Scenario:
    name: str
    server: Server
    endpoint: Endpoint
    swarm: Swarm
    cpus: Placement = Placement()
    sleep: float = 2.0
    description: str = ""
    expected: dict[str, float] = field(default_factory=dict)
    source: str = ""
    # For a scenario expanded from a matrix: the file's name, and each axis with this run's value label.
    group: str = ""
    matrix: tuple[tuple[str, str], ...] = ()
    site: Site = BUNDLED
    thresholds: tuple[Threshold, ...] = ()  # conditions the run must meet, or djload exits 4
    # A weighted mix (`requests:`), sent in a fixed order per user; empty: every request to `endpoint`.
    # A user's project always has one: its `endpoint:` is a mix of one.
    requests: tuple[Request, ...] = ()
    locustfile: UserLocustfile | None = None  # the user's own Locust file, instead of requests or the endpoint
    site_line: int = field(default=0, compare=False)  # where the file's `site:` is, for the project's check
    login: logins.Login | None = None  # each user signs in through the project's login form first

    @property
    def warmup_path(self) -> str | None:
        """Where warm-up requests (GETs) go: the endpoint, or the mix's first GET entry; None for a mix without one."""
        if self.locustfile:
            return None  # its requests are its own: nothing djload may send for it
        if not self.requests:
            return self.endpoint.url_path
        # A path's placeholders take their first value; a model's keys are known once read (djload.modelkeys).
        sendable = (values.first(request.path, request.values) for request in self.requests if request.method == "GET")
        return next((path for path in sendable if path), None)

    @property
    def endpoint_label(self) -> str:
        """What the requests go to, in one line: the endpoint, the mix, or the user's locustfile."""
        if self.locustfile:
            return f"locustfile {self.locustfile.path.name}"
        return usersite.label(self.requests) if len(self.requests) > 1 else masking.masked(self.endpoint.url_path)

    database: Database = Database()
    capacity: Capacity | None = None  # `capacity:`: a search for the highest rate under an SLO, not one swarm


MAX_NAME = layout.MAX_NAME
# Upper bounds catch typos (an extra zero or three) before they start a runaway run.
MAX_SECONDS = 3600.0
MIN_SECONDS = 0.001  # a timeout or duration below a millisecond ends before a request on loopback does
MAX_WORKERS = 64
MAX_THREADS = 1000
MAX_USERS = 100_000
MAX_REQUESTS_PER_USER = 1_000_000
MAX_PROCESSES = 64  # locust processes forked for one swarm
MAX_TIMES = 1_000_000_000  # the computation's loop: about a minute of one CPU per request
HUGE_FLAG = "--i-know-its-huge"


@dataclass(frozen=True)
class Budget:
    """What the scenarios of one run may cost, checked before anything starts. The deliberately huge
    (HUGE_FLAG) get the larger bounds, which still stop a typo from running for months."""

    combinations: int  # scenarios, matrices expanded
    requests: int  # one scenario's measured requests
    users: int  # one scenario's users: each a connection and a greenlet on both sides
    run_s: float  # the least time one scenario takes (its sleeps or its duration)
    longest_s: float  # the most time one scenario may take (each request up to its timeout)
    lift: str  # how to allow more

    def over(self, what: str, value: float, bound: float) -> str | None:
        return f"{what}; more than {bound:,.0f} {self.lift}" if value > bound else None


NORMAL = Budget(1_000, 1_000_000, 10_000, 3_600, 86_400, f"needs {HUGE_FLAG}")
HUGE = Budget(100_000, 100_000_000, MAX_USERS, 30 * 86_400, 30 * 86_400, f"is refused even with {HUGE_FLAG}")

EXPECTED_KEYS = (
    "completed_requests",
    "total_errors",
    "total_time_s",
    "mean_latency_ms",
    "effective_rps",
)


def _name(value: str) -> str | None:
    # The name is the scenario's folder in the results: the rule is the results folder's (layout).
    return layout.name_problem(value)


SWARM_KEYS = (
    "users",
    "processes",
    "requests_per_user",
    "duration",
    "spawn_rate",
    "timeout",
    "user_class",
    "model",
    "rate",
    "warmup",
    "reference",
)


def seconds(value: float) -> str | None:
    """A duration or a timeout: above 0, and long enough for one request on loopback."""
    if wrong := positive(MAX_SECONDS)(value):
        return wrong
    return f"must be at least {MIN_SECONDS:g} s, got {shown(value)}" if value < MIN_SECONDS else None


def _swarm(checker: Checker, section: Map) -> Swarm | None:
    prefix = "swarm."
    problems = len(checker.problems)

    def get(key: str, kind: type, **options: Any) -> Any:
        return checker.get(section, key, kind, prefix, **options)

    def problem(key: str, text: str) -> None:
        checker.problem(section.key_lines[key], prefix + key, text)

    model = get("model", str, default="closed", check=one_of(list(MODELS)))
    duration = get("duration", float, default=None, check=seconds)
    rate = get("rate", float, default=None, check=positive(MAX_USERS))
    if "requests_per_user" in section and "duration" in section:
        problem("duration", "give either requests_per_user or duration, not both")
    if model == "open":
        for key in ("rate", "duration"):
            if key not in section:
                checker.problem(section.line, prefix + key,
                                "missing; the open model needs rate (requests/s) and duration (s)")  # fmt: skip
        if "requests_per_user" in section:
            problem("requests_per_user", "the open model sends rate × duration requests; remove requests_per_user")
        if section.get("user_class") == "http":
            problem("user_class", "the open model sends with FastHttpUser; use fast")
        if "reference" in section:
            problem("reference", "a reference measures the most the server gives, the closed model's question; "
                                 "the open model sends at a fixed rate")  # fmt: skip
    elif "rate" in section:
        problem("rate", "only the open model takes a rate; set model: open")
    throughput = duration is not None or model == "open"
    swarm = Swarm(
        users=get("users", int, check=between(1, MAX_USERS)),
        requests_per_user=get("requests_per_user", int, default=1, check=between(1, MAX_REQUESTS_PER_USER)),
        spawn_rate=get("spawn_rate", float, default=0.0, check=between(0, MAX_USERS)),
        timeout_s=get("timeout", float, default=60.0, check=seconds),
        user_class=get("user_class", str, default="fast" if throughput else "http", check=one_of(list(USER_CLASSES))),
        duration_s=duration,
        model=model,
        rate=rate,
        warmup=get("warmup", int, default=0, check=between(0, MAX_REQUESTS_PER_USER)),
        processes=get("processes", int, default=1, check=between(1, MAX_PROCESSES)),
        reference=get("reference", str, default=None, check=one_of(list(REFERENCE_TOOLS))),
    )
    if len(checker.problems) > problems:
        return None
    if swarm.spawn_s > MAX_SECONDS:
        problem("spawn_rate", f"starting {swarm.users} users at {swarm.spawn_rate:g} per second takes "
                              f"{swarm.spawn_s:.3g} s; at most {MAX_SECONDS:g} s")  # fmt: skip
    if model == "open" and swarm.total_requests == 0:
        problem("rate", f"rate × duration sends {rate * duration:g} requests; at least 1")
    if swarm.processes > swarm.users:
        problem("processes", f"must be at most swarm.users ({swarm.users}), got {swarm.processes}")
    if model == "open" and swarm.processes > 1:
        problem("processes", "the open model runs in one process; remove processes")
    return swarm if len(checker.problems) == problems else None


def _query(checker: Checker, section: Map, prefix: str) -> dict[str, str]:
    """Query parameters: names to plain values; the site reads `times`, a whole number. Keys and values are
    sent percent-encoded (Endpoint.query_string), so each means what it says here."""
    value = checker.get(section, "query", dict, prefix, default={})
    query: dict[str, str] = {}
    for key, item in (value or {}).items():
        line, where = value.key_lines[key], f"{prefix}query.{shown_text(str(key))}"
        if not isinstance(key, str) or not key or key.startswith("-"):
            # The query string is one argument of locust's command line: a leading '-' would make it an option.
            checker.problem(line, where, "a query key must be a name that does not start with '-'")
        elif not isinstance(item, str | int | float) or isinstance(item, bool):
            checker.problem(line, where, f"must be a string or a number, got {shown(item)}")
        elif key == "times" and (wrong := _times(item)):
            checker.problem(line, where, wrong)
        else:
            query[key] = str(item)
    return query


# The least time one step of the computation view's countdown takes (CPython does about 50 million a second
# at best): what a request's `times` costs at the least.
TIMES_STEP_S = 1e-8


def _times(item: object) -> str | None:
    """The rule for the computation's `times`, wherever it is given; None when it is right."""
    if not (isinstance(item, int) and not isinstance(item, bool) and item >= 0):
        return f"must be a whole number of at least 0, got {shown(item)}"
    if item > MAX_TIMES:
        return f"must be at most {MAX_TIMES:,} (about a minute of one CPU per request)"
    return None


def _least_s(site: Site, path: str, sleep: float) -> float:
    """The least time one request to path (a query string included) takes: its sleep or its computation."""
    view = site.view(path)
    if view is None:
        return 0.0
    if view.waits_sleep:
        return sleep
    if view.work is Work.COMPUTATION:
        query = dict(urllib.parse.parse_qsl(path.partition("?")[2]))
        times = query.get("times", "10")
        return int(times) * TIMES_STEP_S if times.isascii() and times.isdigit() and len(times) <= 12 else 0.0
    return 0.0


def _whole(text: str) -> int | str:
    """A query string's value as the site reads a whole number; as it is when it is none (or absurdly long)."""
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 20 else text


def cost_problems(swarm: Swarm, per_request_s: float, budget: Budget) -> list[str]:
    """What a swarm costs beyond the budget, from its fields alone: nothing is started or expanded.
    per_request_s: the least time one request takes (per_request_s(), a mix's weighted mean)."""
    requests = swarm.total_requests
    per_user = swarm.duration_s if swarm.duration_s is not None else swarm.requests_per_user * per_request_s
    least_s = swarm.spawn_s + per_user + swarm.warmup * per_request_s
    how = "rate × duration" if swarm.model == "open" else "users × requests_per_user"
    found = (
        budget.over(f"{requests or 0:,} requests ({how})", requests or 0, budget.requests),
        budget.over(f"{swarm.users:,} users, each a connection on both sides", swarm.users, budget.users),
        budget.over(f"takes at least {least_s:,.0f} s (its sleeps, computations or duration)", least_s,
                    budget.run_s),
        budget.over(f"may take {swarm.longest_s:,.0f} s (each request up to the timeout)", swarm.longest_s,
                    budget.longest_s),
    )  # fmt: skip
    return [problem for problem in found if problem]


def _mix_s(site: Site, mix: tuple[Request, ...], sleep: float) -> float:
    return sum(_least_s(site, r.path, sleep) * r.weight for r in mix) / sum(r.weight for r in mix)


def per_request_s(scenario: Scenario) -> float:
    """The least time one of the scenario's requests takes: its sleep or computation, weighted as its mix
    sends them (an endpoint is a mix of one). What its run time is made of."""
    return _mix_s(scenario.site, scenario.requests or (Request(scenario.endpoint.url_path),), scenario.sleep)


def over_budget(scenario: Scenario, said: str, budget: Budget) -> list[str]:
    """A scenario whose swarm the command line changed, its cost checked again: each problem names the file
    and what the command line said."""
    found = cost_problems(scenario.swarm, per_request_s(scenario), budget)
    return [f"{scenario.source}: {said}: {problem}" for problem in found]


def with_warmup(scenarios: list[Scenario], warmup: int, budget: Budget = NORMAL) -> list[Scenario]:
    """The scenarios with warmup requests each (the command line's --warmup), their cost checked again."""
    changed = [replace(s, swarm=replace(s.swarm, warmup=warmup)) for s in scenarios]
    problems = [problem for s in changed for problem in over_budget(s, f"with --warmup {warmup:,}: swarm", budget)]
    if problems:
        raise ScenarioError(list(dict.fromkeys(problems)))
    return changed


def _cpus(checker: Checker, section: Map, role: str) -> tuple[int, ...]:
    if role not in section:
        return ()
    try:
        return cpu_lists.checked(section[role])
    except ValueError as exc:
        checker.problem(section.key_lines[role], f"cpus.{role}", str(exc))
        return ()


def _postgres_url(value: str) -> str | None:
    parts = urllib.parse.urlsplit(value)
    if parts.scheme not in ("postgres", "postgresql") or not parts.hostname:
        return f"must be a postgresql://user@host:port/name URL, got {masking.masked(value)!r}"
    try:
        parts.port  # noqa: B018 - urlsplit checks the port only when asked
    except ValueError:
        return "the port must be a number from 0 to 65535"
    return None


def _database(checker: Checker, section: Map) -> Database:
    prefix = "database."
    checker.known_keys(section, DATABASE_KEYS, prefix)
    engine = checker.get(section, "engine", str, prefix, default="sqlite", check=one_of(list(DATABASE_ENGINES)))
    pool = checker.get(section, "pool", bool, prefix, default=False)
    conn_max_age = checker.get(section, "conn_max_age", int, prefix, default=0, check=between(0, MAX_CONN_MAX_AGE))
    url = checker.get(section, "url", str, prefix, default=None, check=_postgres_url)
    if engine == "sqlite":
        for key, given in (("pool", pool), ("url", url)):
            if given:
                checker.problem(section.key_lines[key], prefix + key, "only for engine: postgres")
    elif pool and conn_max_age:
        # Django refuses it (ImproperlyConfigured): the pool keeps the connections instead.
        checker.problem(section.key_lines["conn_max_age"], prefix + "conn_max_age",
                        "must be 0 with pool: true; the pool keeps the connections open")  # fmt: skip
    return Database(engine or "sqlite", bool(pool), conn_max_age or 0, url)


TOP_KEYS = (
    "name", "description", "site", "server", "endpoint", "requests", "sleep", "swarm", "cpus", "expected", "thresholds",
    "database", "locustfile", "login", "capacity",
)  # fmt: skip


def _thresholds(checker: Checker, data: Map, requests: tuple[Request, ...]) -> tuple[Threshold, ...]:
    """thresholds: a summary metric, or a mix entry's (by_request[<path>].<metric>), → a condition such as
    "< 2100"; each problem with its line."""
    section = checker.mapping(data["thresholds"], data.key_lines["thresholds"], "thresholds")
    if section is None:
        return ()
    # A mix that did not parse has said so: its entries are not known, so per-request names are not checked.
    # A user's locustfile names its requests itself, as it runs: not known before.
    unknown = "requests" in data and not requests or "locustfile" in data
    mix = None if unknown else [(r.method, r.path) for r in requests]
    found = []
    for metric, condition in section.items():
        try:
            found.append(parse_threshold(str(metric), condition, mix))
        except ValueError as exc:
            checker.problem(section.key_lines[metric], f"thresholds.{metric}", shown_text(str(exc), 160))
    return tuple(found)


def parse(data: Map, source: str, budget: Budget = NORMAL) -> Scenario:
    """The Scenario of one file's (or one matrix combination's) fields; ScenarioError with every problem."""
    checker = Checker(source)
    checker.known_keys(data, TOP_KEYS, "")
    name = checker.get(data, "name", str, default=Path(source).stem, check=_name)
    if "name" not in data and (wrong := _name(name)):
        # The file's name stands in for name: it follows the same rule.
        checker.problem(1, "name", f"missing, and the file's name cannot stand in for it: {wrong}")
        name = None
    description = checker.get(data, "description", str, default="")
    sleep = checker.get(data, "sleep", float, default=2.0, check=between(0, MAX_SECONDS))
    site = usersite.parse_site(checker, data, source) if "site" in data else BUNDLED

    server = None
    server_map = checker.section(data, "server", "mode")
    if server_map is not None:
        checker.known_keys(server_map, SERVER_KEYS, "server.")
        server = Server(
            mode=checker.get(server_map, "mode", str, "server.", check=one_of(sorted(MODES))),
            workers=checker.get(server_map, "workers", int, "server.", default=1, check=between(1, MAX_WORKERS)),
            threads=checker.get(server_map, "threads", int, "server.", default=1, check=between(1, MAX_THREADS)),
        )

    endpoint = None
    requests: tuple[Request, ...] = ()
    locustfile = None
    if "locustfile" in data:
        locustfile = userlocust.parse(checker, data, source)
        endpoint = Endpoint(path=site.ready if site else "/")  # nothing is sent there: a warm-up has no path
    elif "requests" in data:
        if "endpoint" in data:
            checker.problem(data.key_lines["endpoint"], "endpoint", "give either endpoint or requests, not both")
        if site:
            requests = usersite.parse_requests(checker, data, site)
        if requests:
            endpoint = Endpoint(path=requests[0].path)  # a warm-up goes to the mix's first entry
    else:
        endpoint_map = checker.section(data, "endpoint", "path")
        if endpoint_map is not None and site:
            checker.known_keys(endpoint_map, ENDPOINT_KEYS, "endpoint.")
            path_check = usersite.starts_with_slash if site.project else one_of(site.paths)
            path = checker.get(endpoint_map, "path", str, "endpoint.", check=path_check)
            endpoint = Endpoint(path=path, query=tuple(_query(checker, endpoint_map, "endpoint.").items()))
            if path and len(endpoint.url_path) > usersite.MAX_URL_PATH:
                checker.problem(endpoint_map.key_lines.get("query", endpoint_map.line), "endpoint.query",
                                f"the path with its query is {len(endpoint.url_path):,} characters; servers take "
                                f"at most {usersite.MAX_URL_PATH:,}")  # fmt: skip
            if site.project:
                line = endpoint_map.key_lines.get("path", endpoint_map.line)
                requests = (usersite.Request(endpoint.url_path, line=line, where="endpoint.path"),)

    swarm = None
    swarm_map = checker.section(data, "swarm", "users")
    if swarm_map is not None:
        checker.known_keys(swarm_map, SWARM_KEYS, "swarm.")
        swarm = _swarm(checker, swarm_map)

    cpus = Placement()
    if "cpus" in data:
        cpus_map = checker.mapping(data["cpus"], data.key_lines["cpus"], "cpus")
        if cpus_map is not None:
            checker.known_keys(cpus_map, CPUS_KEYS, "cpus.")
            cpus = Placement(*(_cpus(checker, cpus_map, role) for role in CPUS_KEYS))

    database = Database()
    if "database" in data:
        database_map = checker.mapping(data["database"], data.key_lines["database"], "database")
        if database_map is not None:
            database = _database(checker, database_map)

    expected: dict[str, float] = {}
    if "expected" in data:
        expected_map = checker.mapping(data["expected"], data.key_lines["expected"], "expected")
        if expected_map is not None:
            checker.known_keys(expected_map, EXPECTED_KEYS, "expected.")
            for key in expected_map:
                if key in EXPECTED_KEYS:
                    expected[key] = checker.get(expected_map, key, float, "expected.", check=at_least(0))

    login = None
    if "login" in data:
        login = logins.parse(checker, data, usersite.starts_with_slash)
        if site and not site.project:
            checker.problem(data.key_lines["login"], "login", "signs in to your own project: give a site: block")
    thresholds = _thresholds(checker, data, requests) if "thresholds" in data else ()
    capacity = capacityspec.parse(checker, data, swarm_map) if "capacity" in data else None
    if (requests or locustfile) and swarm and swarm.model == "open":
        only_closed = "the open model sends to one endpoint of the bundled site; a mix or a project runs closed"
        checker.problem(data.key_lines["swarm"], "swarm.model", only_closed)

    if requests and site and not site.project:
        for request in requests:  # the bundled site's computation reads times from the path's query
            for key, value in urllib.parse.parse_qsl(request.path.partition("?")[2]):
                if key == "times" and (wrong := _times(_whole(value))):
                    checker.problem(request.line, request.where, f"times {wrong}")
    if swarm and endpoint and site and swarm_map is not None and not checker.problems:
        # Each request's least time, weighted as the mix sends them (an endpoint is a mix of one).
        mix = requests or (Request(endpoint.url_path),)
        for problem in cost_problems(swarm, _mix_s(site, mix, sleep), budget):
            checker.problem(swarm_map.line, "swarm", problem)
        for problem in capacity_cost(capacity, budget) if capacity else ():
            checker.problem(data.key_lines["capacity"], "capacity", problem)

    if checker.problems:
        raise ScenarioError(checker.problems)
    assert server and endpoint and swarm and site
    return Scenario(
        name=name,
        description=description,
        server=server,
        endpoint=endpoint,
        swarm=swarm,
        cpus=cpus,
        sleep=sleep,
        expected=expected,
        thresholds=thresholds,
        source=source,
        site=site,
        requests=requests,
        locustfile=locustfile,
        site_line=data.key_lines.get("site", 0),
        database=database,
        login=login,
        capacity=capacity,
    )


def capacity_cost(capacity: Capacity, budget: Budget) -> list[str]:
    """The search's worst case beyond the budget: every step it may take, each held step_s."""
    found = (
        budget.over(f"the search may send {capacity.most_requests:,} requests ({capacity.most_steps} steps at up to "
                    "max_rate)", capacity.most_requests, budget.requests),
        budget.over(f"the search may take {capacity.most_s:,.0f} s ({capacity.most_steps} steps × step_s)",
                    capacity.most_s, budget.run_s),
    )  # fmt: skip
    return [problem for problem in found if problem]


def searches_cost(scenarios: list[Scenario], budget: Budget) -> list[str]:
    """All the run's capacity searches together (steps × step_s × modes) within the time one scenario may take."""
    searching = [s for s in scenarios if s.capacity]
    total = sum(s.capacity.most_s for s in searching if s.capacity)
    wrong = budget.over(f"{len(searching)} capacity searches may take {total:,.0f} s together (steps × step_s × "
                        "scenarios)", total, budget.run_s)  # fmt: skip
    return [f"{searching[0].source}: capacity: {wrong}"] if wrong else []


def load_file(path: Path, budget: Budget = NORMAL) -> Scenario:
    """The one scenario of a plain (non-matrix) file."""
    return parse(read(path), str(path), budget)


def load_scenarios(path: Path, budget: Budget = NORMAL, left: int | None = None) -> list[Scenario]:
    """The scenarios of one file: one, or one per combination when the file declares a ``matrix:``;
    left is how many more scenarios the budget allows (the files before used the rest)."""
    source = str(path)
    data = read(path)
    if "matrix" not in data:
        return checked_projects([parse(data, source, budget)])
    limit = budget.combinations if left is None else left
    variants, problems = matrix.expand(data, source, limit, budget.lift)
    scenarios: list[Scenario] = []
    for variant in variants:
        try:
            scenario = parse(variant.fields, source, budget)
        except ScenarioError as exc:
            problems.extend(exc.problems)
            continue
        scenarios.append(replace(scenario, group=variant.group, matrix=variant.labels))
    if problems:
        raise ScenarioError(list(dict.fromkeys(problems)))
    return checked_projects(scenarios)


def checked_projects(scenarios: list[Scenario]) -> list[Scenario]:
    """Each user project's paths resolved by the project itself (once per site and mix), before anything
    boots; its scenarios then carry the views' facts. ScenarioError for a path that does not resolve or a
    project that does not import."""
    checked: dict[tuple[Site, tuple[Request, ...]], tuple[Site, list[str]]] = {}
    problems: list[str] = []
    result: list[Scenario] = []
    imported: dict[Path, str | None] = {}
    for scenario in scenarios:
        if scenario.locustfile and scenario.locustfile.path not in imported:
            imported[scenario.locustfile.path] = userlocust.import_problem(scenario.locustfile, scenario.source)
            problems += [problem for problem in [imported[scenario.locustfile.path]] if problem]
        if not scenario.site.project:
            result.append(scenario)
            continue
        asked = scenario.requests
        if scenario.login:  # the login form's path must resolve too
            asked += (Request(scenario.login.path, line=scenario.login.line, where="login.path"),)
        key = (scenario.site, asked)
        if key not in checked:
            checked[key] = usersite.check_paths(scenario.site, asked, scenario.source, scenario.site_line)
        site, found = checked[key]
        problems.extend(found)
        result.append(replace(scenario, site=site))
    if problems:
        raise ScenarioError(list(dict.fromkeys(problems)))
    return result


def scenario_files(path: Path) -> list[Path]:
    """A file, or the *.yaml files of a folder and its subfolders (folders named *.yaml are searched, not read)."""
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml") and not p.is_dir())
    return [path]


def load(paths: Iterable[str | Path], budget: Budget = NORMAL) -> list[Scenario]:
    """Every scenario named by files or folders; all problems of all files in one ScenarioError."""
    scenarios: list[Scenario] = []
    problems: list[str] = []
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            problems.append(f"{path}: no such file or folder")
            continue
        files = scenario_files(path)
        if not files:
            problems.append(f"{path}: folder holds no scenario files (*.yaml)")
        if len(files) > budget.combinations:  # each file is one scenario at least: none needs reading
            problems.append(f"{path}: {len(files):,} scenario files; more than {budget.combinations:,} {budget.lift}")
            raise ScenarioError(problems)
        for file in files:
            try:
                scenarios.extend(load_scenarios(file, budget, max(1, budget.combinations - len(scenarios))))
            except ScenarioError as exc:
                problems.extend(exc.problems)
            if len(scenarios) > budget.combinations:
                problems.append(f"{file}: {len(scenarios):,} scenarios so far; more than {budget.combinations:,} "
                                f"{budget.lift}")  # fmt: skip
                raise ScenarioError(list(dict.fromkeys(problems)))
    problems += searches_cost(scenarios, budget)
    names = Counter(s.name for s in scenarios)
    for scenario in scenarios:
        if names[scenario.name] > 1:
            problems.append(f"{scenario.source}:1: name: '{scenario.name}' is used by more than one scenario")
    if problems:
        raise ScenarioError(list(dict.fromkeys(problems)))
    return scenarios
