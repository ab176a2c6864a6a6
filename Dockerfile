# One image recipe for every process of the portal; build from the repository root, once per
# service:
#   docker build --build-arg SERVICE=billing -t registry.example.com/portal-billing:TAG .
# SERVICE is catalog, cart-quote, orders, billing, license-assign, notifications, gateway or
# portal. The image holds that package, the shared contracts and runtime, and the runtime
# dependencies only (requirements.lock; the test tools are in requirements-dev.lock). Its
# processes are `python -m <package> web | worker | migrate | await-migrations | seed | dlq`.
FROM python:3.11-slim

ARG SERVICE
# Unicode fonts for the PDFs (invoices, credit notes, quotes): DejaVu Sans for Latin, Greek,
# Cyrillic, Arabic, Hebrew...; IPAGothic for Chinese, Japanese and Korean names
# (portal_runtime.documents).
RUN test -n "$SERVICE" || { echo "build with --build-arg SERVICE=<service>"; exit 1; } \
    && apt-get update \
    && apt-get install -y --no-install-recommends fonts-dejavu-core fonts-ipafont-gothic \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 portal \
    && useradd --system --uid 10001 --gid portal --no-create-home --home-dir /nonexistent portal

WORKDIR /app
COPY requirements.lock ./
RUN pip install --no-cache-dir -r requirements.lock

COPY contracts contracts
COPY runtime runtime
COPY services services
COPY gateway gateway
COPY portal portal
# The service's own folder (services/<name>, or gateway/ and portal/), installed with the shared
# packages; the sources are removed afterwards, the installed packages stay.
RUN case "$SERVICE" in gateway|portal) folder="$SERVICE" ;; *) folder="services/$SERVICE" ;; esac \
    && test -f "$folder/pyproject.toml" || { echo "no such service: $SERVICE"; exit 1; } \
    && pip install --no-cache-dir --no-deps ./contracts ./runtime "./$folder" \
    && rm -rf /app/contracts /app/runtime /app/services /app/gateway /app/portal \
    && python -m compileall -q "$(python -c 'import sysconfig; print(sysconfig.get_path("purelib"))')"

# The root file system can be read-only (Kubernetes mounts /tmp and /var/lib/portal).
ENV PORTAL_SERVICE=$SERVICE \
    WEB_BIND_HOST=0.0.0.0 \
    PORTAL_VAR_DIR=/var/lib/portal \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN mkdir -p /var/lib/portal && chown portal:portal /var/lib/portal
USER 10001:10001
EXPOSE 8080-8087
# Compose and Kubernetes name the process; by default the image serves its web process.
CMD ["sh", "-c", "exec python -m \"$(echo \"$PORTAL_SERVICE\" | tr - _)\" web"]
