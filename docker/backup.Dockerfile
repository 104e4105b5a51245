# syntax=docker/dockerfile:1
# backup: cadenza-backup, backs up and restores the catalogue (pg_dump/pg_restore 17), the accounts and media
# Build from the repository root:  docker build -f docker/backup.Dockerfile .
# (CI: kaniko, see .gitlab-ci.yml; the root .dockerignore is docker/build.dockerignore.)
#
# Unlike the service images this one is NOT FROM scratch: the postgres part of
# cadenza-backup runs pg_dump and pg_restore, which are dynamically linked
# against libpq, OpenSSL and musl. The runtime is Alpine with the PostgreSQL 17
# client tools only (no server, no gosu, no entrypoint script: a much smaller
# scan surface than the official postgres image). pg_dump must be at least the
# server's major version: 17 dumps servers up to 17. When the catalogue moves
# to PostgreSQL 18, move this to postgresql18-client (docker/README.md).
#
# No HEALTHCHECK on purpose: the image runs as a Kubernetes CronJob (run to
# completion, nothing to probe) or as a one-off restore pod.
# checkov:skip=CKV_DOCKER_2:a run-to-completion CronJob/restore pod; there is no server to health-check

# ---- chef: the toolchain, cargo-auditable and cargo-chef ---------------------
FROM docker.io/library/rust:1.95-alpine3.22 AS chef
# musl-dev: the C runtime/linker files (ring and other -sys crates build C).
# Versions float with the pinned base image tag; they are build-only, nothing ships.
# hadolint ignore=DL3018
RUN apk add --no-cache musl-dev ca-certificates
# cargo-auditable embeds the dependency list in the binary, so `trivy image`
# can see the Rust crates inside the image. cargo-chef splits the dependency
# build from the service's own, so the dependencies are a cached layer.
ARG CARGO_AUDITABLE_VERSION=0.7.7
ARG CARGO_CHEF_VERSION=0.1.78
RUN cargo install --locked cargo-auditable --version "${CARGO_AUDITABLE_VERSION}" \
 && cargo install --locked cargo-chef --version "${CARGO_CHEF_VERSION}"
WORKDIR /src
ENV CARGO_TERM_COLOR=never \
    RUSTFLAGS="-C target-feature=+crt-static"

# ---- plan: the dependency recipe (changes only with the manifests and Cargo.lock)
FROM chef AS plan
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

# ---- build: dependencies first (cached while the recipe is the same), then a fully static musl binary
FROM chef AS build
COPY --from=plan /src/recipe.json recipe.json
RUN cargo chef cook --profile image --locked --target x86_64-unknown-linux-musl -p cadenza-backup --recipe-path recipe.json
COPY . .
RUN cargo auditable build --profile image --locked --target x86_64-unknown-linux-musl -p cadenza-backup --bin cadenza-backup \
 && install -D -m 0555 target/x86_64-unknown-linux-musl/image/cadenza-backup /out/cadenza-backup

# ---- runtime: the binary + the PostgreSQL 17 client tools --------------------
FROM docker.io/library/alpine:3.22 AS runtime
ARG VERSION=dev
ARG REVISION=unknown
ARG CREATED=1970-01-01T00:00:00Z
LABEL org.opencontainers.image.title="backup" \
      org.opencontainers.image.description="Cadenza backup: cadenza-backup with pg_dump/pg_restore 17; backs up and restores the catalogue (PostgreSQL), the accounts (MongoDB) and media" \
      org.opencontainers.image.source="https://gitlab.com/cadenza/cadenza" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.vendor="Cadenza" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}"
# postgresql17-client: pg_dump, pg_restore (and psql) under /usr/libexec/postgresql17.
# The minor version floats within major 17 with the pinned Alpine release, so a
# rebuild picks up its security fixes; the build fails below if it is not 17.
# A passwd entry for UID 10001: libpq looks the user up (default user name, ~/.pgpass).
# hadolint ignore=DL3018
RUN apk add --no-cache ca-certificates postgresql17-client \
 && addgroup -S -g 10001 cadenza \
 && adduser -S -D -H -u 10001 -G cadenza -h /tmp -s /sbin/nologin cadenza \
 && for t in pg_dump pg_restore; do \
      v=$("/usr/libexec/postgresql17/$t" --version) \
      && case $v in *"(PostgreSQL) 17."*) echo "$v" ;; *) echo "$t is not 17: $v" >&2; exit 1 ;; esac; \
    done
COPY --from=build /out/cadenza-backup /usr/local/bin/cadenza-backup
# PG_BIN_DIR: cadenza-backup runs pg_dump/pg_restore from there, whatever `pg_dump` on PATH is.
ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
    PG_BIN_DIR=/usr/libexec/postgresql17 \
    HOME=/tmp
USER 10001:10001
WORKDIR /tmp
ENTRYPOINT ["/usr/local/bin/cadenza-backup"]
