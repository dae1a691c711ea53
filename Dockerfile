# WedSync Ops image: one image for web, workers, beat and the migration job (docs/deploy.md).
# Multi-stage: dependencies are installed from the lock (hashes checked) in a build stage; the final stage
# runs as a non-root user with static files collected at build time.
# Not built by the test suite: the machine that runs it has no access to container registries.

FROM python:3.11-slim-bookworm AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN python -m venv /opt/venv
COPY requirements.txt /tmp/requirements.txt
RUN /opt/venv/bin/pip install --require-hashes --no-deps -r /tmp/requirements.txt

FROM python:3.11-slim-bookworm
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=wedsync_ops.settings \
    GUNICORN_BIND=0.0.0.0:8000 \
    PROMETHEUS_MULTIPROC_DIR=/tmp/prometheus
RUN groupadd --system --gid 10001 wedsync \
    && useradd --system --uid 10001 --gid wedsync --home-dir /app --shell /usr/sbin/nologin wedsync
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY --chown=wedsync:wedsync . /app
# collectstatic needs settings but no database or secret: DEBUG=true for this one command only.
RUN DEBUG=true python manage.py collectstatic --no-input -v 0
USER wedsync
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --retries=3 \
    CMD python -c "import urllib.request, sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/health/live', timeout=2).status != 200)"
CMD ["gunicorn", "-c", "gunicorn.conf.py", "wedsync_ops.wsgi"]
