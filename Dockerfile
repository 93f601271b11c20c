# The bot in a slim image, run as an unprivileged user. Settings come from the environment
# (docker run --env-file .env, or compose.yaml); the database, audio and heartbeat live in
# the /app/data volume. Only the runtime goes in: no sandbox, no tests, no dev tools.
#
#   docker build -t soundverse-bot .
#   docker run --env-file .env -v soundverse-data:/app/data soundverse-bot
#
# PYTHON_IMAGE pins the base; set it to another Debian-based Python 3.11+ image if needed.
ARG PYTHON_IMAGE=python:3.12.12-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/venv
# Dependencies first, pinned with hashes: a change to the code reuses this layer.
COPY requirements.lock ./
RUN /opt/venv/bin/pip install --require-hashes --no-deps -r requirements.lock
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY cogs ./cogs
RUN /opt/venv/bin/pip wheel --no-deps --wheel-dir /wheels .

FROM ${PYTHON_IMAGE}
# libopus0: Opus encoding for voice playback (discord.py loads it at run time).
RUN apt-get update \
    && apt-get install -y --no-install-recommends libopus0=1.3.1-3 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 10001 bot \
    && mkdir -p /app/data \
    && chown 10001:10001 /app/data
# The dependencies, then the bot on top: a code change only replaces the small last layer.
COPY --from=build /opt/venv /opt/venv
COPY --from=build /wheels /wheels
RUN /opt/venv/bin/pip install --no-deps --no-cache-dir --no-index /wheels/*.whl \
    && rm -rf /wheels
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
WORKDIR /app
USER 10001
VOLUME ["/app/data"]
# `health` reads the heartbeat the bot writes every HEALTH_INTERVAL (30 s) seconds.
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
    CMD ["python", "-m", "bot", "health"]
# SIGTERM stops the bot cleanly: jobs in flight are kept and resumed at the next start.
STOPSIGNAL SIGTERM
ENTRYPOINT ["python", "-m", "bot"]
