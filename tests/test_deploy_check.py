"""`manage.py check --deploy --fail-level WARNING` passes with the production variables of .env.example, only then.

Each run is a fresh process with ``DEBUG=false`` and the checkout's own .env
kept out of the way of the production values (they override it).
"""

import re
import subprocess
import sys

import pytest
from django.conf import settings

ENV_EXAMPLE = settings.BASE_DIR / ".env.example"


def production_variables() -> dict:
    """The ``#prod NAME=value`` lines of .env.example, with ``<…>`` placeholders filled with real-looking values."""
    fillers = {
        "SECRET_KEY": "k" * 10 + "Q7s9-xW2pLm4Zr8vT1bN6cY3hJ5fD0gA_eU9iO2kS7qR4wE1tX8yC6",
        "FIELD_ENCRYPTION_KEYS": "6v0Zb8nqkK4tCv3Hc1fBkq5gXcJbqg3fZl7r2o8mYhE=",
        "APM_METRICS_TOKEN": "prometheus-scrape-token-0123456789",
    }
    found = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        match = re.match(r"^#prod ([A-Z_]+)=(.*)$", line)
        if match:
            name, value = match.groups()
            found[name] = fillers.get(name, value) if "<" in value else value
    return found


def run_check(env_overrides: dict) -> subprocess.CompletedProcess:
    import os

    env = {k: v for k, v in os.environ.items() if k not in production_variables()}
    env.update({"DEBUG": "false", **env_overrides})
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_env_example_documents_every_production_variable():
    assert {
        "SECRET_KEY",
        "SECURE_SSL_REDIRECT",
        "SECURE_HSTS_SECONDS",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "SECURE_PROXY_SSL_HEADER",
        "ALLOWED_HOSTS",
        "APM_METRICS_TOKEN",
    } <= production_variables().keys()


@pytest.mark.slow
def test_check_deploy_passes_with_the_documented_production_variables():
    result = run_check(production_variables())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.slow
def test_check_deploy_fails_without_them():
    result = run_check({"SECRET_KEY": production_variables()["SECRET_KEY"]})
    assert result.returncode != 0
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016", "wedsync_ops.W001"):
        assert warning in result.stderr


@pytest.mark.parametrize(("debug", "fails"), [("false", True), ("true", False)])
def test_the_development_secret_key_is_refused_unless_debug(debug, fails):
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'wedsync_ops.settings';"
            " from django.conf import settings; settings.SECRET_KEY",
        ],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "DEBUG": debug, "SECRET_KEY": "dev-only-insecure-key-change-me"},
    )
    assert (result.returncode != 0) == fails, result.stderr
    if fails:
        assert "SECRET_KEY must be set" in result.stderr
