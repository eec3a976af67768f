#!/bin/sh
# Container entry point. First argument: web, worker or beat; anything else is run as is.
set -eu

role="${1:-web}"

case "$role" in
  web)
    # Replicas of web start together and may race on the same migration; the
    # loser's transaction is rolled back, so a retry finds it applied.
    attempt=1
    until python manage.py migrate --noinput; do
      if [ "$attempt" -ge 5 ]; then
        echo "entrypoint: migrate failed $attempt times, giving up." >&2
        exit 1
      fi
      attempt=$((attempt + 1))
      sleep 3
    done
    # The control socket would go to $HOME (/app), which is read-only here.
    exec gunicorn concertation.wsgi \
      --bind 0.0.0.0:8000 \
      --workers "${WEB_CONCURRENCY:-2}" \
      --worker-class gthread --threads 4 \
      --access-logfile - \
      --error-logfile - \
      --worker-tmp-dir /dev/shm \
      --no-control-socket
    ;;
  worker)
    # One process more than cores: a group's invitation (writing e-mails) then
    # never takes the last process that delivers them.
    exec celery -A concertation worker -l info -Q "${CELERY_TASK_DEFAULT_QUEUE:-concertation}" \
      --concurrency "${CELERY_WORKER_CONCURRENCY:-$(( $(nproc) + 1 ))}"
    ;;
  beat)
    # The schedule (when each periodic task last ran) lives on the beat-data
    # volume: a restarted beat neither repeats nor skips a periodic task.
    exec celery -A concertation beat -l info --schedule "${CELERY_BEAT_SCHEDULE_FILE:-/data/beat/celerybeat-schedule}"
    ;;
  *)
    exec "$@"
    ;;
esac
