"""A scenario's `login:` block: how each locust user signs in through the project's own login form.

```yaml
login:
  path: /accounts/login/
  username: alice                # or accounts: [{username: …, password: …}, …], dealt to users in turn
  password: s3cret               # or password_env: NAME (read from the environment: CI secrets)
  # fields: {username: email}    # the form's field names, when they are not username/password
```
The password is kept out of everything djload writes: it is not a compared field (no digest, no copy
of the scenario, no repr), and it reaches locust through a file only the user can read (djload.swarm).
"""

import os
from dataclasses import dataclass, field
from typing import Any

from djload.yamlcheck import Checker, Map, shown

LOGIN_KEYS = ("path", "username", "password", "password_env", "accounts", "fields")
ACCOUNT_KEYS = ("username", "password", "password_env")
FIELD_KEYS = ("username", "password")
MAX_ACCOUNTS = 10_000


@dataclass(frozen=True)
class Account:
    username: str
    password: str = field(default="", compare=False, repr=False)  # never in a digest or a printout
    password_env: str | None = None  # where the password came from, which may be shown


@dataclass(frozen=True)
class Login:
    path: str
    accounts: tuple[Account, ...]
    username_field: str = "username"
    password_field: str = "password"
    line: int = field(default=0, compare=False)  # where the file gives its path

    def as_json(self) -> dict[str, Any]:
        """What a locust user needs to sign in (written for locust to a file only the user can read)."""
        return {
            "path": self.path,
            "accounts": [{"username": a.username, "password": a.password} for a in self.accounts],
            "fields": {"username": self.username_field, "password": self.password_field},
        }

    @property
    def passwords(self) -> list[str]:
        return [account.password for account in self.accounts if account.password]


def _account(checker: Checker, entry: Map, where: str) -> Account | None:
    problems = len(checker.problems)
    checker.known_keys(entry, ACCOUNT_KEYS, where)
    username = checker.get(entry, "username", str, where)
    password = checker.get(entry, "password", str, where, default=None)
    env_name = checker.get(entry, "password_env", str, where, default=None)
    if password is not None and env_name is not None:
        checker.problem(entry.key_lines["password_env"], where + "password_env",
                        "give either password or password_env, not both")  # fmt: skip
    elif password is None and env_name is None and "password" not in entry and "password_env" not in entry:
        checker.problem(entry.line, where + "password", "missing; give password or password_env: NAME")
    if env_name is not None:
        password = os.environ.get(env_name)
        if password is None:
            checker.problem(entry.key_lines["password_env"], where + "password_env",
                            f"the environment variable {env_name} is not set")  # fmt: skip
    if len(checker.problems) > problems or username is None or password is None:
        return None
    if not username:
        checker.problem(entry.key_lines["username"], where + "username", "must not be empty")
        return None
    return Account(username, password, env_name)


def parse(checker: Checker, data: Map, starts_with_slash: Any) -> Login | None:
    """The `login:` block; None after a problem (each one said with its line)."""
    line = data.key_lines["login"]
    section = checker.mapping(data["login"], line, "login")
    if section is None:
        return None
    problems = len(checker.problems)
    checker.known_keys(section, LOGIN_KEYS, "login.")
    path = checker.get(section, "path", str, "login.", check=starts_with_slash)
    accounts: list[Account] = []
    if "accounts" in section:
        if "username" in section:
            checker.problem(section.key_lines["username"], "login.username",
                            "give either username (with its password) or accounts, not both")  # fmt: skip
        for key in ("password", "password_env"):
            if key in section and "username" not in section:  # with a username, that problem says it
                checker.problem(section.key_lines[key], f"login.{key}", "each of accounts gives its own password")
        entries = section["accounts"]
        if not isinstance(entries, list) or not entries or len(entries) > MAX_ACCOUNTS:
            checker.problem(section.key_lines["accounts"], "login.accounts",
                            f"must be a list of 1 to {MAX_ACCOUNTS:,} mappings with username and password")  # fmt: skip
        else:
            lines = getattr(entries, "item_lines", [section.key_lines["accounts"]] * len(entries))
            for number, (entry, entry_line) in enumerate(zip(entries, lines, strict=True)):
                where = f"login.accounts[{number}]."
                if not isinstance(entry, Map):
                    checker.problem(entry_line, where.rstrip("."), f"must be a mapping with username and "
                                                                   f"password, got {shown(entry)}")  # fmt: skip
                elif account := _account(checker, entry, where):
                    accounts.append(account)
    elif "username" in section:
        account = _account(checker, _only(section, ACCOUNT_KEYS), "login.")
        if account:
            accounts.append(account)
    else:
        checker.problem(section.line, "login.username", "missing; give username and password, or accounts")
    fields = {"username": "username", "password": "password"}
    if "fields" in section:
        given = checker.mapping(section["fields"], section.key_lines["fields"], "login.fields")
        if given is not None:
            checker.known_keys(given, FIELD_KEYS, "login.fields.")
            for key in FIELD_KEYS:
                name = checker.get(given, key, str, "login.fields.", default=key)
                if name is not None:
                    fields[key] = name
    if len(checker.problems) > problems or path is None or not accounts:
        return None
    return Login(path, tuple(accounts), fields["username"], fields["password"], section.key_lines["path"])


def _only(section: Map, keys: tuple[str, ...]) -> Map:
    """The part of a mapping with these keys, lines kept."""
    part = Map({key: value for key, value in section.items() if key in keys})
    part.line, part.key_lines = section.line, {key: section.key_lines[key] for key in part}
    return part
