# One image for every part of `docker compose up`: the site, the locust master and workers, the web UI.
# Dependencies come from pyproject.toml alone. Where python:3.11-slim cannot be pulled, scripts/base-image
# builds it from Debian's packages.
FROM python:3.11-slim

# HOME and MPLCONFIGDIR in /tmp: the containers run under the invoking user's ids (docker-compose.yml's
# `user:`), which own nothing in the image.
ENV PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore HOME=/tmp MPLCONFIGDIR=/tmp/matplotlib
WORKDIR /app

# pip's index: PyPI unless the build is given another (a mirror), e.g. `PIP_INDEX_URL=... docker compose build`;
# compose passes these through from the environment when they are set.
ARG PIP_INDEX_URL
ARG PIP_EXTRA_INDEX_URL
ARG PIP_TRUSTED_HOST

# The dependencies alone first, read from pyproject.toml: this layer is rebuilt only when pyproject.toml
# changes, not when djload's code, the site or a scenario does.
COPY pyproject.toml ./
RUN python -c "import tomllib; print(*tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies'], sep='\n')" \
        >/tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt && rm /tmp/requirements.txt

# Then djload itself, editable and without dependencies (a second or two): djload finds site/,
# locustfiles/ and scenarios/ beside it and writes to /app/results. Its code is copied afterwards.
COPY README.md ./
RUN mkdir djload && touch djload/__init__.py && pip install --no-deps -e .
COPY djload ./djload
COPY site ./site
COPY locustfiles ./locustfiles
COPY scenarios ./scenarios

ENTRYPOINT ["djload"]
CMD ["run", "scenarios/talk"]
