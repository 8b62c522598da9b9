#!/bin/sh
# The stand-in nginx image's entrypoint. Docker's embedded DNS answers at 127.0.0.11, which
# deploy/nginx.conf names as its resolver; podman's answers at the network's gateway, written
# in /etc/resolv.conf. So conf.d/*.conf are copied into run.d/ (which nginx.conf includes)
# with that resolver put in, and the mounted files are left as they are.
set -eu
dns=$(awk '$1 == "nameserver" { print $2; exit }' /etc/resolv.conf)
rm -f /etc/nginx/run.d/*.conf
for conf in /etc/nginx/conf.d/*.conf; do
    [ -e "$conf" ] || continue
    sed "s/resolver 127\.0\.0\.11\b/resolver ${dns:-127.0.0.11}/" "$conf" > "/etc/nginx/run.d/$(basename "$conf")"
done
exec "$@"
