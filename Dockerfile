# The bot in a slim image, run as a non-root user. Settings come from the environment
# (docker run --env-file .env ...); the database and audio live in the /app/data volume.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN useradd --create-home --uid 10001 bot
WORKDIR /app

COPY pyproject.toml README.md ./
COPY bot ./bot
COPY cogs ./cogs
COPY sandbox ./sandbox
RUN pip install . && mkdir -p /app/data && chown bot:bot /app/data

USER bot
VOLUME ["/app/data"]
ENTRYPOINT ["python", "-m", "bot"]
