# Airlock container image (SPEC 1 and 8).
#
#   docker build --network host -t airlock:local .                  # the runtime image
#   docker build --network host --target fakellm -t airlock-fakellm .  # tests only
#
# Base images are build args with public defaults. Without a registry, make
# local ones with .ci/images.sh and pass them:
#   --build-arg GO_IMAGE=airlock-local/golang:1.26 --build-arg BASE_IMAGE=airlock-local/debian:bookworm
#
# Written for the classic builder as well as BuildKit: no RUN --mount, no
# COPY --chmod. The module download is its own layer, so a source change does
# not download again; the heaviest dependencies are compiled in a layer of
# their own.
#
# Stages: build → fakellm (tests) → rootfs → runtime (default, last). The
# classic builder also runs the stages before the target; fakellm is one COPY.

ARG GO_IMAGE=golang:1.26-bookworm
ARG BASE_IMAGE=debian:bookworm-slim

# ---- build: static binaries in /out ---------------------------------------
FROM ${GO_IMAGE} AS build
ARG GOPROXY
ARG GOSUMDB
# Heavy dependencies compiled before the source arrives, so that their build
# cache lives in a layer that only a go.mod/go.sum change invalidates. A cache
# only: a package that fails here is skipped, and the real build decides.
ARG WARM_PACKAGES="modernc.org/sqlite github.com/mark3labs/mcp-go/server github.com/mark3labs/mcp-go/client go.starlark.net/starlark go.yaml.in/yaml/v3"
ENV CGO_ENABLED=0 \
    GOTOOLCHAIN=local \
    GOFLAGS="-trimpath -buildvcs=false -tags=timetzdata"
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
RUN go build $WARM_PACKAGES 2>/dev/null || for p in $WARM_PACKAGES; do go build "$p" 2>/dev/null || echo "warm-up: skipped $p"; done
COPY . .
# The fake LLM (tests only) is linked here too, sharing the compile; the build
# cache is then dropped, so each source change leaves a small layer behind
# rather than hundreds of MB (the warm-up layer above keeps its own cache).
RUN mkdir -p /out && \
    go build -ldflags="-s -w" -o /out/ ./cmd/orchestrator ./cmd/aiworker ./cmd/fakellm && \
    go clean -cache

# ---- fakellm: the in-repo fake LLM server, for the end-to-end test only ---
FROM scratch AS fakellm
COPY --from=build /out/fakellm /fakellm
USER 65534:65534
EXPOSE 9999
ENTRYPOINT ["/fakellm", "-addr", "0.0.0.0:9999"]

# ---- rootfs: the runtime file tree, assembled in /rootfs ------------------
FROM ${BASE_IMAGE} AS rootfs
# The local base image already has these; a public debian:bookworm-slim gets them from apt.
RUN set -eu; \
    want="busybox-static ca-certificates"; \
    n=$(dpkg-query -W -f='${Status}\n' $want 2>/dev/null | grep -c '^install ok installed$' || true); \
    if [ "$n" = 2 ]; then \
        echo "rootfs: $want already installed"; \
    else \
        apt-get update -q && \
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $want && \
        rm -rf /var/lib/apt/lists/*; \
    fi
# Busybox applets: what entrypoint.sh and the healthcheck use, plus a few for
# an operator's `docker exec`. No package manager, no compiler, no Node, and
# no dynamic loader or C library: every executable is static (the privilege
# drop is `orchestrator exec-as`, not util-linux setpriv).
RUN set -eu; r=/rootfs; \
    mkdir -p $r/bin $r/usr/bin $r/usr/local/bin $r/etc/ssl/certs $r/data $r/run/airlock $r/tmp $r/root; \
    cp /bin/busybox $r/bin/busybox; \
    for a in sh cat chmod chown date env false grep head id kill ls mkdir ps rm sleep stat test tr true wget; do \
        ln -s busybox "$r/bin/$a"; \
    done; \
    ln -s busybox "$r/bin/["; \
    cp /etc/ssl/certs/ca-certificates.crt $r/etc/ssl/certs/; \
    printf '%s\n' \
        'root:x:0:0:root:/root:/bin/sh' \
        'airlock-system:x:10001:10001:Airlock orchestrator:/nonexistent:/bin/false' \
        'airlock-ai:x:10002:10002:Airlock AI worker:/tmp:/bin/false' \
        'nobody:x:65534:65534:nobody:/nonexistent:/bin/false' >$r/etc/passwd; \
    printf '%s\n' \
        'root:x:0:' \
        'airlock:x:10000:airlock-ai' \
        'airlock-system:x:10001:' \
        'airlock-ai:x:10002:' \
        'nogroup:x:65534:' >$r/etc/group; \
    chmod 0700 $r/root; chmod 1777 $r/tmp; \
    chown 10001:10001 $r/data; chmod 0700 $r/data; \
    chown 10001:10000 $r/run/airlock; chmod 2750 $r/run/airlock
# Last, so that a source change leaves the layers above cached.
COPY entrypoint.sh /rootfs/usr/local/bin/entrypoint.sh
COPY --from=build /out/orchestrator /out/aiworker /rootfs/usr/local/bin/

# ---- runtime ---------------------------------------------------------------
FROM scratch AS runtime
COPY --from=rootfs /rootfs/ /
ENV PATH=/usr/local/bin:/usr/bin:/bin \
    AIRLOCK_DATA_DIR=/data \
    AIRLOCK_HTTP_ADDR=0.0.0.0:8080 \
    AIRLOCK_SOCKET=/run/airlock/mcp.sock \
    AIRLOCK_WORKER_UID=10002
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=5s --timeout=3s --start-period=30s --retries=3 \
    CMD ["/bin/wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/readyz"]
ENTRYPOINT ["/usr/local/bin/entrypoint.sh"]
