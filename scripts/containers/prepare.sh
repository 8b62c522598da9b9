#!/bin/sh
# Prepares podman on a Debian machine with no Docker engine and no image registry, then builds
# local stand-ins for the base images docker-compose.yml names (python, redis, postgres, nginx)
# from Debian packages. Idempotent: installed packages, settings and built images are kept.
# Run as root. Docker users need none of this: `docker compose up` pulls the official images.
#
#   scripts/containers/prepare.sh            # packages, settings, every stand-in image
#   REBUILD=1 scripts/containers/prepare.sh  # build the stand-in images again
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
SUITE=${SUITE:-bookworm}
# The mirror apt already uses (deb822 or one-line sources), else Debian's.
MIRROR=${MIRROR:-$(sed -n 's/^URIs: *\(http[^ ]*\/debian\)\/*$/\1/p; s/^deb \[*[^]]*\]* *\(http[^ ]*\/debian\)\/* .*/\1/p' \
    /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null | head -n 1)}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
CONF=/etc/containers/containers.conf
BUILD="nice -n 10 podman build"

say() { printf '== %s\n' "$*"; }

# --- packages ---------------------------------------------------------------------------------
missing=""
for pkg in podman podman-compose runc debootstrap; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing="$missing $pkg"
done
if [ -n "$missing" ]; then
    say "installing$missing"
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing
fi

# --- settings: runc (crun refuses this machine's cgroup layout), no raised ulimits -------------
mkdir -p /etc/containers
touch "$CONF"
set_option() {  # set_option <table> <key> <value>: replaces the key in the table or adds it
    python3 - "$CONF" "$1" "$2" "$3" <<'PY'
import re, sys
path, table, key, value = sys.argv[1:]
text = open(path).read()
line = f"{key} = {value}"
header = re.search(rf"^\[{re.escape(table)}\][ \t]*$", text, re.M)
if header is None:
    text = text.rstrip("\n") + ("\n\n" if text.strip() else "") + f"[{table}]\n{line}\n"
else:
    end = re.compile(r"^\[", re.M).search(text, header.end())
    end = end.start() if end else len(text)
    body = text[header.end():end]
    option = re.compile(rf"^[ \t]*{re.escape(key)}[ \t]*=.*$", re.M)
    body = option.sub(line, body, count=1) if option.search(body) else f"\n{line}" + body
    text = text[:header.end()] + body + text[end:]
open(path, "w").write(text)
PY
}
set_option engine runtime '"runc"'
set_option containers default_ulimits '[]'

# --- base images ------------------------------------------------------------------------------
have() { [ -z "${REBUILD:-}" ] && podman image exists "$1"; }

if ! have localhost/debian:bookworm; then
    say "debootstrap $SUITE from $MIRROR"
    root=$(mktemp -d /var/tmp/doa-rootfs.XXXXXX)
    nice -n 10 debootstrap --variant=minbase "$SUITE" "$root" "$MIRROR"
    # Like the official image: no apt caches kept, apt pointed at the same mirror.
    rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
    tar -C "$root" -c . | podman import --change 'CMD ["/bin/bash"]' - localhost/debian:bookworm
    rm -rf "$root"
fi

# Each under the name docker-compose.yml and the Dockerfile give it, both as Docker reads it
# (docker.io/…) and as podman reads a short name without an alias (localhost/…). Built from a
# copy of this folder with the host's CA bundle added: pip inside a build then trusts what the
# host trusts (a TLS-inspecting proxy's certificate included), for PyPI.
context=$(mktemp -d /var/tmp/doa-context.XXXXXX)
trap 'rm -rf "$context"' EXIT
cp "$HERE"/* "$context"/
cp /etc/ssl/certs/ca-certificates.crt "$context/host-ca.crt"
ROOT=$(cd "$HERE/../.." && pwd)
image_of() {  # the image a file names for a repository: image_of <repository> <file>
    sed -n "s#^ *\(image:\|FROM\) *\($1:[^ ]*\).*#\2#p" "$2" | head -n 1
}
for entry in \
    "python Dockerfile python.Containerfile" \
    "redis docker-compose.yml redis.Containerfile" \
    "postgres docker-compose.yml postgres.Containerfile" \
    "nginx docker-compose.yml nginx.Containerfile" \
    "minio/minio docker-compose.yml s3.Containerfile" \
    "minio/mc docker-compose.yml s3.Containerfile"
do
    set -- $entry
    name=$(image_of "$1" "$ROOT/$2")
    [ -n "$name" ] || { echo "no $1 image named in $2" >&2; exit 1; }
    case "$1" in */*) official=docker.io/$name ;; *) official=docker.io/library/$name ;; esac
    if have "$official" && have "localhost/$name"; then
        say "$name: present"
        continue
    fi
    say "building the stand-in $name ($3)"
    $BUILD --network host -t "$official" -t "localhost/$name" -f "$context/$3" "$context"
done
say "ready: $(podman --version), runtime $(podman info --format '{{.Host.OCIRuntime.Name}}')"
