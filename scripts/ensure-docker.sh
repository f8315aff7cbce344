#!/usr/bin/env bash
# Make sure a Docker engine answers. On a machine without one (as in CI here),
# install Debian's docker.io and debootstrap (for building the base image when
# no registry is reachable) and start dockerd without a bridge or iptables.
set -euo pipefail
if docker info >/dev/null 2>&1; then exit 0; fi
if ! command -v dockerd >/dev/null 2>&1 || ! command -v debootstrap >/dev/null 2>&1; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure-docker: no Docker engine answers; install and start Docker, then retry" >&2
    exit 1
  fi
  echo "ensure-docker: installing docker.io and debootstrap" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io debootstrap >/dev/null
fi
if [ "$(id -u)" != 0 ]; then
  echo "ensure-docker: dockerd is installed but not running; start it (needs root)" >&2
  exit 1
fi
echo "ensure-docker: starting dockerd" >&2
nohup dockerd --bridge=none --iptables=false >/var/log/provebench-dockerd.log 2>&1 &
for _ in $(seq 1 60); do
  if docker info >/dev/null 2>&1; then exit 0; fi
  sleep 1
done
echo "ensure-docker: dockerd did not come up; see /var/log/provebench-dockerd.log" >&2
exit 1
