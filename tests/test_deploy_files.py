"""The deployment files agree with the code: every queue has its worker everywhere, images install the lock.

(The images cannot be built on this machine, docs/deploy.md says so; these
checks keep the files from drifting from the queues and the lock.)
"""

import re

import yaml
from django.conf import settings

from wedsync_ops.queues import QUEUES

ROOT = settings.BASE_DIR


def test_every_queue_has_a_worker_in_the_procfile_compose_and_systemd():
    procfile = (ROOT / "Procfile").read_text()
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    deploy_doc = (ROOT / "docs" / "deploy.md").read_text()
    for queue in QUEUES:
        assert re.search(rf"worker -Q {queue} ", procfile), queue
        assert f"worker-{queue}" in compose and queue in compose[f"worker-{queue}"]["command"], queue
        assert f"wedsync-worker@{queue}" in deploy_doc, queue
    assert "-Q %i" in (ROOT / "deploy/systemd/wedsync-worker@.service").read_text()


def test_long_running_units_restart_always_and_the_runner_respawns():
    for unit in ("wedsync-web.service", "wedsync-worker@.service", "wedsync-beat.service"):
        text = (ROOT / "deploy/systemd" / unit).read_text()
        assert "Restart=always" in text and "User=wedsync" in text, unit
    assert all(
        line.split(": ", 1)[1].startswith("scripts/respawn.py ")
        for line in (ROOT / "Procfile").read_text().splitlines()
        if line.strip()
    )


def test_the_image_installs_the_lock_with_hashes_and_runs_unprivileged():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "--require-hashes" in dockerfile and "requirements.txt" in dockerfile
    assert re.search(r"^USER wedsync$", dockerfile, re.MULTILINE)
    assert "collectstatic" in dockerfile and dockerfile.count("FROM ") == 2
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    assert compose["migrate"]["environment"]["WEDSYNC_DB_ROLE"] == "owner"
    assert compose["web"]["environment"]["DATABASE_TRANSACTION_POOLING"] == "true"


def test_the_deploy_doc_names_only_files_that_exist():
    doc = (ROOT / "docs" / "deploy.md").read_text()
    for path in set(
        re.findall(
            r"`((?:deploy|tests|scripts|bench|docs)/[\w./@-]+|Dockerfile|docker-compose\.yml"
            r"|gunicorn\.conf\.py)`",
            doc,
        )
    ):
        assert (ROOT / path).exists(), path


def test_the_lock_pins_every_package_with_hashes():
    for name in ("requirements.txt", "requirements-dev.txt"):
        lines = (ROOT / name).read_text().splitlines()
        pins = [line for line in lines if re.match(r"^[A-Za-z0-9_.\[\]-]+==", line)]
        assert len(pins) > 40 and all(line.endswith("\\") for line in pins), name  # a hash follows every pin
        assert not [line for line in lines if re.match(r"^[A-Za-z].*(>=|<|~=)", line)], name
    dev = (ROOT / "requirements-dev.txt").read_text()
    prod = (ROOT / "requirements.txt").read_text()
    for tool in ("pytest==", "playwright==", "aiosmtpd==", "ruff==", "honcho==", "time-machine=="):
        assert tool in dev and tool not in prod, tool


def test_the_lock_is_compiled_from_pyproject():
    """Every direct dependency of pyproject.toml is in the lock at its pinned version (else: bash scripts/lock.sh)."""
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["name"] == "wedsync-ops" and project["version"] and project["requires-python"] == ">=3.11"

    def pins(text):
        return {
            m.group(1).lower().replace("_", "-"): m.group(2)
            for m in re.finditer(r"^([A-Za-z0-9_.-]+)==([^\s\\]+)", text, re.MULTILINE)
        }

    locked = pins((ROOT / "requirements.txt").read_text())
    locked_dev = pins((ROOT / "requirements-dev.txt").read_text())
    for requirement, lock in [(r, locked) for r in project["dependencies"]] + [
        (r, locked_dev) for r in project["optional-dependencies"]["dev"]
    ]:
        name, version = re.match(r"^([A-Za-z0-9_.-]+)(?:\[[^\]]+\])?==(.+)$", requirement).groups()
        assert lock.get(name.lower().replace("_", "-")) == version, f"{requirement}: run bash scripts/lock.sh"
    assert all(locked_dev.get(name) == version for name, version in locked.items())  # same versions in both
