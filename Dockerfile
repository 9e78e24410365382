# Stage 1: front-end assets from the npm registry (Bootstrap, Bootstrap Icons, HTMX).
FROM node:20-bookworm-slim AS assets
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error

# Stage 2: Python dependencies in a virtual environment.
FROM python:3.11-slim-bookworm AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
RUN python -m venv /venv
COPY pyproject.toml ./
COPY afterresume ./afterresume
COPY apps ./apps
RUN /venv/bin/pip install .

# Stage 3: slim runtime. The web server is gunicorn; the worker is the same image running qcluster.
FROM python:3.11-slim-bookworm AS runtime
ENV PATH=/venv/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 DEBUG=false VAR_DIR=/app/var
WORKDIR /app
# PDF exports and receipts (WeasyPrint) need Pango, HarfBuzz and a font from Debian.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --system --uid 10001 --home-dir /app afterresume
COPY --from=build /venv /venv
COPY --from=assets /app/node_modules ./node_modules
COPY . .
RUN SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput \
    && rm -rf node_modules && mkdir -p var/media && chown -R afterresume var
USER afterresume
EXPOSE 8000
CMD ["gunicorn", "--config", "gunicorn.conf.py", "afterresume.wsgi:application"]
