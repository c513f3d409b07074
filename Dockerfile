# MeetPilot production image: one image for web (daphne), worker and beat.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 HF_HUB_OFFLINE=1 \
    MEETPILOT_VAR_DIR=/var/lib/meetpilot
RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg sox espeak-ng libpq5 \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md ./
RUN pip install --upgrade pip && pip install .
COPY . .
RUN mkdir -p /var/lib/meetpilot && useradd --system --home /app meetpilot \
 && chown -R meetpilot /var/lib/meetpilot \
 && DATABASE_URL=postgres://build@localhost/build SECRET_KEY=build python manage.py collectstatic --noinput -v 0
USER meetpilot
EXPOSE 8000
CMD ["daphne", "-b", "0.0.0.0", "-p", "8000", "--proxy-headers", "meetpilot.asgi:application"]
