# syntax=docker/dockerfile:1
# scimd: a multi-stage build. The builder compiles SQLite, libpq and its OpenSSL from source (bundled, vendored; the
# rust image has the perl and make that OpenSSL's build needs), so the runtime image needs no database client or TLS
# libraries; the runtime runs as an unprivileged user.

FROM rust:1.95-bookworm AS builder
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p scimd-server \
    && install -D -m 0755 target/release/scimd /out/scimd

FROM debian:bookworm-slim AS runtime
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 scimd \
    && useradd --system --uid 10001 --gid scimd --home-dir /var/lib/scimd --create-home scimd
COPY --from=builder /out/scimd /usr/local/bin/scimd
USER scimd:scimd
WORKDIR /var/lib/scimd
ENV SCIMD_BIND=0.0.0.0:8080 \
    DATABASE_URL=/var/lib/scimd/scimd.db \
    SCIMD_LOG_FORMAT=json
EXPOSE 8080
VOLUME ["/var/lib/scimd"]
ENTRYPOINT ["/usr/local/bin/scimd"]
CMD ["serve"]
