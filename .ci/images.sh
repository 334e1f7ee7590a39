#!/bin/sh
# images.sh makes, on this machine, the base images the Dockerfile names when
# no container registry is reachable:
#
#   airlock-local/debian:bookworm   debootstrap --variant=minbase root filesystem
#                                   (+ busybox-static, ca-certificates), the
#                                   runtime stage's BASE_IMAGE
#   airlock-local/golang:<go ver>   the same root filesystem plus the host's Go
#                                   toolchain (/usr/local/go), the GO_IMAGE
#
# Idempotent: an image whose tag already exists is kept (FORCE=1 rebuilds).
# Needs root, Docker, and an apt mirror (the one the host's apt uses).
# `images.sh --check` only reports: exit 0 if both images exist, 1 if not.
# Prints the build args to use, e.g.
#   docker build --network host --build-arg BASE_IMAGE=airlock-local/debian:bookworm \
#                --build-arg GO_IMAGE=airlock-local/golang:1.26 .
set -eu

SUITE=${SUITE:-bookworm}
GOROOT_HOST=${GOROOT_HOST:-/usr/local/go}
INCLUDE=busybox-static,ca-certificates
DEBIAN_TAG=${DEBIAN_TAG:-airlock-local/debian:$SUITE}
export DEBIAN_FRONTEND=noninteractive

log() { printf 'images.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

have_image() { docker image inspect "$1" >/dev/null 2>&1; }

# go_tag prints the major.minor of the host's Go toolchain (go1.26.8 -> 1.26).
go_tag() {
	"$GOROOT_HOST/bin/go" env GOVERSION | sed -n 's/^go\([0-9]*\.[0-9]*\).*/\1/p'
}

# apt_mirror prints the Debian mirror the host's apt uses, or the default one.
apt_mirror() {
	m=$(grep -hs -E '^(URIs:|deb )' /etc/apt/sources.list /etc/apt/sources.list.d/*.sources \
		/etc/apt/sources.list.d/*.list 2>/dev/null |
		grep -o -E 'https?://[^ ]*/debian/?( |$)' | grep -v security | head -n 1 | tr -d ' ')
	printf '%s\n' "${MIRROR:-${m:-http://deb.debian.org/debian}}"
}

ensure_debootstrap() {
	command -v debootstrap >/dev/null 2>&1 && return 0
	log "installing debootstrap with apt-get"
	apt-get update -q >/dev/null
	apt-get install -y -q --no-install-recommends debootstrap >/dev/null
}

# make_rootfs DIR: a minimal Debian root filesystem with the runtime extras.
make_rootfs() {
	mirror=$(apt_mirror)
	log "debootstrap --variant=minbase --include=$INCLUDE $SUITE from $mirror (a minute or two)"
	debootstrap --variant=minbase --include="$INCLUDE" "$SUITE" "$1" "$mirror" >"$1.log" 2>&1 ||
		{ tail -n 20 "$1.log" >&2; die "debootstrap failed (log above)"; }
	rm -rf "$1"/var/cache/apt/archives/*.deb "$1"/var/lib/apt/lists/* "$1"/tmp/* "$1.log"
}

import_rootfs() { # DIR TAG [--change ...]
	dir=$1 tag=$2
	shift 2
	log "importing $dir as $tag"
	tar -C "$dir" --numeric-owner -c . | docker import "$@" - "$tag" >/dev/null
}

# trust_host_cas DIR: the build image trusts the host's local CAs too (module
# downloads may pass a TLS-intercepting proxy). The runtime base does not.
trust_host_cas() {
	cas=/usr/local/share/ca-certificates
	ls "$cas"/*.crt >/dev/null 2>&1 || return 0
	log "adding the host's local CAs ($cas) to the build image"
	cp "$cas"/*.crt "$1$cas/"
	chroot "$1" update-ca-certificates >/dev/null 2>&1
}

main() {
	command -v docker >/dev/null 2>&1 || die "docker not found"
	docker info >/dev/null 2>&1 || die "docker daemon not reachable"
	[ -x "$GOROOT_HOST/bin/go" ] || die "no Go toolchain at $GOROOT_HOST"
	go_image=${GO_TAG:-airlock-local/golang:$(go_tag)}
	if [ "${1:-}" = --check ]; then
		if ! have_image "$DEBIAN_TAG" || ! have_image "$go_image"; then
			log "missing: $DEBIAN_TAG or $go_image (run .ci/images.sh as root)"
			exit 1
		fi
		printf 'BASE_IMAGE=%s\nGO_IMAGE=%s\n' "$DEBIAN_TAG" "$go_image"
		exit 0
	fi
	[ "$(id -u)" = 0 ] || die "run as root (debootstrap and docker need it)"

	if have_image "$DEBIAN_TAG" && have_image "$go_image" && [ "${FORCE:-0}" != 1 ]; then
		log "up to date: $DEBIAN_TAG and $go_image exist (FORCE=1 rebuilds)"
	else
		ensure_debootstrap
		work=$(mktemp -d /var/tmp/airlock-rootfs.XXXXXX)
		trap 'rm -rf "$work" "$work.log"' EXIT
		make_rootfs "$work"
		path=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
		import_rootfs "$work" "$DEBIAN_TAG" --change "ENV PATH=$path" --change 'CMD ["/bin/bash"]'
		log "copying the Go toolchain from $GOROOT_HOST"
		cp -a "$GOROOT_HOST" "$work/usr/local/go"
		trust_host_cas "$work"
		mkdir -p "$work/go"
		import_rootfs "$work" "$go_image" \
			--change "ENV PATH=/go/bin:/usr/local/go/bin:$path" --change 'ENV GOPATH=/go' \
			--change 'ENV GOTOOLCHAIN=local' --change 'WORKDIR /go' --change 'CMD ["/bin/bash"]'
	fi
	log "ready: --build-arg BASE_IMAGE=$DEBIAN_TAG --build-arg GO_IMAGE=$go_image"
	printf 'BASE_IMAGE=%s\nGO_IMAGE=%s\n' "$DEBIAN_TAG" "$go_image"
}

main "$@"
