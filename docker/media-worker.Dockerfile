# syntax=docker/dockerfile:1
# media-worker: reads each song's audio off the media queue (SQS, S3) and records what it found (PostgreSQL, Redis)
# Build from the repository root:  docker build -f docker/media-worker.Dockerfile .
# (CI: kaniko, see .gitlab-ci.yml; the root .dockerignore is docker/build.dockerignore.)

# No HEALTHCHECK on purpose: Kubernetes probes /healthz (startup, liveness), and a
# scratch image has no shell or client to run one with.
# checkov:skip=CKV_DOCKER_2:startup/liveness are Kubernetes probes; scratch has nothing to run a HEALTHCHECK with

# ---- chef: the toolchain, cargo-auditable and cargo-chef ---------------------
FROM docker.io/library/rust:1.95-alpine3.22 AS chef
# musl-dev: the C runtime/linker files (ring and other -sys crates build C).
# Versions float with the pinned base image tag; they are build-only, nothing ships.
# hadolint ignore=DL3018
RUN apk add --no-cache musl-dev ca-certificates
# cargo-auditable embeds the dependency list in the binary, so `trivy image`
# can see the Rust crates inside a FROM-scratch image. cargo-chef splits the dependency
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
RUN cargo chef cook --profile image --locked --target x86_64-unknown-linux-musl -p media-worker --recipe-path recipe.json
COPY . .
RUN cargo auditable build --profile image --locked --target x86_64-unknown-linux-musl -p media-worker --bin media-worker \
 && install -D -m 0555 target/x86_64-unknown-linux-musl/image/media-worker /out/service \
 && mkdir -m 1777 /out/tmp

# ---- runtime: nothing but the binary and the CA bundle ----------------------
FROM scratch AS runtime
ARG VERSION=dev
ARG REVISION=unknown
ARG CREATED=1970-01-01T00:00:00Z
LABEL org.opencontainers.image.title="media-worker" \
      org.opencontainers.image.description="Cadenza media worker: reads each song's audio off the media queue and records its duration, loudness and waveform; 'backfill' queues songs not read yet" \
      org.opencontainers.image.source="https://gitlab.com/cadenza/cadenza" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.vendor="Cadenza" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}"
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build --chown=10001:10001 /out/tmp /tmp
COPY --from=build /out/service /usr/local/bin/service
ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
    PORT=7100
USER 10001:10001
EXPOSE 7100
ENTRYPOINT ["/usr/local/bin/service"]
