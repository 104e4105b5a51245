# Runtime stage only, for a static binary built OUTSIDE the container.
# Same layout, user and labels as the runtime stage of <service>.Dockerfile;
# used where no base image can be pulled (dev.d/test/60-deploy.sh):
#
#   ctx/service                  the static binary
#   ctx/ca-certificates.crt      the CA bundle (/etc/ssl/certs/ca-certificates.crt)
#   ctx/tmp/                     an empty directory
#   podman build --pull=never -f docker/runtime.Dockerfile \
#     --build-arg NAME=user-svc --build-arg PORT=5000 ctx
# No HEALTHCHECK on purpose: Kubernetes probes /healthz and /readyz, and a
# scratch image has no shell or client to run one with.
# checkov:skip=CKV_DOCKER_2:liveness/readiness are Kubernetes probes; scratch has nothing to run a HEALTHCHECK with
FROM scratch
ARG NAME=service
ARG DESCRIPTION="Cadenza service"
ARG PORT=""
ARG VERSION=dev
ARG REVISION=unknown
ARG CREATED=1970-01-01T00:00:00Z
LABEL org.opencontainers.image.title="${NAME}" \
      org.opencontainers.image.description="${DESCRIPTION}" \
      org.opencontainers.image.source="https://gitlab.com/cadenza/cadenza" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.vendor="Cadenza" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}"
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --chown=10001:10001 tmp /tmp
COPY --chmod=0555 service /usr/local/bin/service
ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
    PORT=${PORT}
USER 10001:10001
ENTRYPOINT ["/usr/local/bin/service"]
