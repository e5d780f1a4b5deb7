#!/usr/bin/env bash
# Makes sure a Docker engine answers: installs Debian's docker.io, docker-compose,
# busybox-static, nftables (the service proxy's nft) and etcd-server (the etcd that
# scripts/build-images.sh puts in the image for the compose ha profile, and that the API
# server's etcd tests and bench start) when missing (root on Debian only), then starts dockerd
# if none runs.
set -euo pipefail

log() { echo "install-docker: $*" >&2; }

need_pkgs=()
command -v dockerd >/dev/null 2>&1 || need_pkgs+=(docker.io)
command -v docker-compose >/dev/null 2>&1 || need_pkgs+=(docker-compose)
[ -x /bin/busybox ] || need_pkgs+=(busybox-static)
command -v nft >/dev/null 2>&1 || need_pkgs+=(nftables)
command -v etcd >/dev/null 2>&1 || need_pkgs+=(etcd-server)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    log "missing ${need_pkgs[*]}: install them (Debian: apt-get install -y ${need_pkgs[*]}) and run this again"
    exit 1
  fi
  log "installing ${need_pkgs[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
fi

if docker info >/dev/null 2>&1; then
  exit 0
fi

if [ "$(id -u)" != 0 ]; then
  log "dockerd is not running and only root can start it here: run 'sudo dockerd &' or 'sudo systemctl start docker'"
  exit 1
fi

# A dockerd killed with the session that started it leaves its pid file behind.
if [ -f /var/run/docker.pid ] && ! kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then
  rm -f /var/run/docker.pid
fi
if [ -f /var/run/docker/containerd/containerd.pid ] && ! kill -0 "$(cat /var/run/docker/containerd/containerd.pid)" 2>/dev/null; then
  rm -f /var/run/docker/containerd/containerd.pid
fi

logfile=${DOCKERD_LOG:-/var/log/peapod-dockerd.log}
log "starting dockerd (log: $logfile)"
nohup dockerd >"$logfile" 2>&1 &
for _ in $(seq 1 60); do
  if docker info >/dev/null 2>&1; then
    log "dockerd is up"
    exit 0
  fi
  sleep 1
done
log "dockerd did not answer within 60 s; see $logfile"
tail -20 "$logfile" >&2 || true
exit 1
