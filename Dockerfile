# One image for every service; docker-compose.yml gives each container its command
# (gunicorn for a service's web process, `doa worker <name>` for its bus worker).
FROM python:3.11-slim

# ffmpeg: the media service transcodes and inspects uploaded video with it.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ffmpeg \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 doa \
    && useradd --system --uid 10001 --gid doa --home-dir /app --no-create-home --shell /usr/sbin/nologin doa

WORKDIR /app
# XDG_RUNTIME_DIR: where gunicorn (≥ 27) puts its control socket; the default, the user's home
# (/app), is not the user's to write.
ENV DOA_VAR_DIR=/app/var PYTHONUNBUFFERED=1 XDG_RUNTIME_DIR=/tmp

COPY pyproject.toml README.md ./
COPY shared/ shared/
COPY services/ services/
COPY deploy/ deploy/

# Not editable: the code lives in site-packages, owned by root; the sources stay in /app for
# gunicorn's relative --config path.
RUN pip install --no-cache-dir --disable-pip-version-check --root-user-action=ignore . \
    && rm -rf build ./*.egg-info \
    && mkdir -p /app/var \
    && chown doa:doa /app/var

USER doa
EXPOSE 8000
CMD ["doa", "--help"]
