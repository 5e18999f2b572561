"""`djload init` asks the project: a tiny Django 5 project of the test's own with a POST-only logout and a
login-required page, asked with Django's test client in the project's subprocess."""

import subprocess
import sys
from pathlib import Path

from djload.scenario import load_scenarios

SETTINGS = """SECRET_KEY = "test"
ALLOWED_HOSTS = ["127.0.0.1"]
INSTALLED_APPS = ["django.contrib.auth", "django.contrib.contenttypes", "django.contrib.sessions"]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
ROOT_URLCONF = "club.urls"
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
LOGIN_URL = "/members/sign-in/"
"""
URLS = """from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LogoutView
from django.http import HttpResponse
from django.urls import path


def home(request):
    return HttpResponse("welcome")


@login_required
def members(request):
    return HttpResponse("members only")


def staff(request):
    return HttpResponse("staff only", status=403)


urlpatterns = [
    path("", home),
    path("members/", members),
    path("staff/", staff),
    path("accounts/logout/", LogoutView.as_view()),
]
"""


def test_init_leaves_out_a_post_only_logout_and_comments_the_pages_behind_the_login(tmp_path: Path) -> None:
    project = tmp_path / "club"
    (project / "club").mkdir(parents=True)
    (project / "manage.py").write_text("")
    (project / "club" / "__init__.py").write_text("")
    (project / "club" / "settings.py").write_text(SETTINGS)
    (project / "club" / "urls.py").write_text(URLS)
    out = tmp_path / "scenarios" / "club.yaml"
    init = [sys.executable, "-m", "djload.cli", "init", str(project), "--settings", "club.settings", "--out", str(out)]
    done = subprocess.run(init, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    written = out.read_text()
    # Django 5's LogoutView takes only POST: never an entry, and the file says why.
    assert "  # /accounts/logout/: left out, it answered 405 to GET (django.contrib.auth.views.LogoutView" in written
    assert "- path: /accounts/logout/" not in written
    # A redirect to LOGIN_URL, and a 403: comments under a commented login: block with the project's LOGIN_URL.
    assert "# login:\n#   path: /members/sign-in/  # the project's LOGIN_URL\n" in written
    assert "  # - path: /members/  # club.urls.members\n" in written
    assert "  # - path: /staff/  # club.urls.staff\n" in written
    assert "requests:\n  - path: /  # club.urls.home (sync)\n    weight: 1\n  # Behind the login" in written
    scenarios = load_scenarios(out)  # as written, a scenario djload takes (the project checked in its probe)
    assert [s.server.mode for s in scenarios] == ["wsgi", "wsgi-gthread", "asgi"]
    assert [request.path for request in scenarios[0].requests] == ["/"] and scenarios[0].swarm.requests_per_user == 3
