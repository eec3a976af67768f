# Production image for the portal: web (gunicorn), Celery worker and beat.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    CONCERTATION_ENV=production \
    MEDIA_ROOT=/data/media

# Pango and fonts for WeasyPrint, gettext for compilemessages.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core gettext \
    && rm -rf /var/lib/apt/lists/*

# Code stays owned by root (read-only for the app); only the media directory and
# beat's schedule are writable. Named volumes mounted on /data/media and
# /data/beat start with this ownership.
RUN groupadd --gid 10001 app \
    && useradd --uid 10001 --gid app --home-dir /app --no-create-home --shell /usr/sbin/nologin app \
    && mkdir -p /data/media /data/beat \
    && chown app:app /data/media /data/beat

WORKDIR /app

COPY requirements/ requirements/
# The import fails here if a native library WeasyPrint loads is missing.
RUN pip install -r requirements/base.txt -c requirements/constraints.txt \
    && python -c "import weasyprint"

COPY . .

# Settings refuse to load in production without SECRET_KEY and REDIS_URL: both
# get throw-away values that exist only for these two commands (the key is
# random and not recorded). The dummy DATABASE_URL keeps settings from creating
# var/ for SQLite; LOCAL_TRIAL lets the base URL and addresses keep their
# placeholders, which nothing here uses. Nothing here connects to a database or
# to Redis. locale/ is created in case it is missing (git does not keep empty
# directories).
RUN SECRET_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(50))')" \
    && export SECRET_KEY \
        REDIS_URL=redis://build.invalid:6379/0 \
        DATABASE_URL=postgres://build@build.invalid:5432/build \
        LOCAL_TRIAL=true \
    && mkdir -p locale \
    && python manage.py compilemessages \
    && python manage.py collectstatic --noinput -v0

USER app

EXPOSE 8000
ENTRYPOINT ["/bin/sh", "/app/docker/entrypoint.sh"]
CMD ["web"]
