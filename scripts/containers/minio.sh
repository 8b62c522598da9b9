#!/bin/sh
# `minio server <dir> [options]` of the stand-in: moto's S3 server on :9000, options ignored.
set -eu
[ "${1:-}" = server ] || { echo "this stand-in runs only 'minio server'" >&2; exit 2; }
exec moto_server -H 0.0.0.0 -p 9000
