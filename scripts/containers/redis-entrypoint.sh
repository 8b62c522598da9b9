#!/bin/sh
# The stand-in redis image's entrypoint, as the official one: `redis-server` given no
# configuration file serves other containers too (protected mode answers only loopback).
set -eu
if [ "${1:-}" = redis-server ]; then
    case "${2:-}" in
        *.conf) ;;
        *) shift; set -- redis-server --protected-mode no "$@" ;;
    esac
fi
exec "$@"
