# One image for every part of `docker compose up`: the site, the locust master and workers, the web UI.
# Dependencies come from pyproject.toml alone.
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

# The package before the rest, so that editing a scenario or the site does not reinstall dependencies.
# Editable, so that djload finds site/, locustfiles/ and scenarios/ beside it and writes to /app/results.
COPY pyproject.toml README.md ./
COPY djload ./djload
RUN pip install -e .

COPY site ./site
COPY locustfiles ./locustfiles
COPY scenarios ./scenarios

ENTRYPOINT ["djload"]
CMD ["run", "scenarios/talk"]
