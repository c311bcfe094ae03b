# The connector daemon: `docker run -v ./config.yaml:/etc/connector/config.yaml:ro \
#   -e SF_CLIENT_ID=… -e SF_USERNAME=… -v ./sf.key:/run/secrets/sf.key:ro \
#   -v connector-data:/var/lib/connector -p 9464:9464 engagement-connector`
# Configuration comes from the mounted file, secrets from the environment (or mounted files
# such as the JWT key); nothing secret is baked into the image.

# --- build a wheel (with the shipped jobs, mappings and migrations inside) -----------------
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY connector ./connector
COPY jobs ./jobs
COPY mappings ./mappings
COPY migrations ./migrations
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /dist .

# --- runtime ---------------------------------------------------------------------------
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    # listen on every interface of the container's own network, so a published port and
    # Prometheus reach /metrics (the file's server.host would otherwise say 127.0.0.1)
    CONNECTOR__SERVER__HOST=0.0.0.0
COPY --from=build /dist/*.whl /tmp/
RUN pip install /tmp/*.whl && rm /tmp/*.whl \
    && groupadd --system --gid 10001 connector \
    && useradd --system --uid 10001 --gid connector --home-dir /var/lib/connector \
       --shell /usr/sbin/nologin connector \
    && mkdir -p /etc/connector /var/lib/connector \
    && chown connector:connector /var/lib/connector
# the SQLite store (sqlite:///connector.db is relative to here) and the sandbox's files
WORKDIR /var/lib/connector
VOLUME ["/var/lib/connector"]
USER connector:connector
EXPOSE 9464
# the daemon stops cleanly on SIGTERM: the current batch finishes, the lease is handed over
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=60s --timeout=10s --start-period=120s --retries=3 \
    CMD ["python", "-m", "connector.daemon.probe", "/etc/connector/config.yaml"]
ENTRYPOINT ["connector"]
CMD ["run", "-c", "/etc/connector/config.yaml"]
