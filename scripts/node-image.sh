#!/usr/bin/env bash
# Prints the base image to build peapod/peapod on (the Dockerfile's NODE_IMAGE):
# PEAPOD_NODE_IMAGE when set, else node:20-bookworm-slim when it is here or can be pulled,
# else the stand-in peapod/node-base:20, (re)built from this machine's parts (cached by Docker).
#   PEAPOD_NODE_IMAGE=$(bash scripts/node-image.sh) docker-compose up -d --build
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -n "${PEAPOD_NODE_IMAGE:-}" ]; then
  echo "$PEAPOD_NODE_IMAGE"
  exit 0
fi
official=node:20-bookworm-slim
if docker image inspect "$official" >/dev/null 2>&1 || docker pull -q "$official" >/dev/null 2>&1; then
  echo "$official"
else
  echo "node-image: $official cannot be pulled; using the stand-in peapod/node-base:20 made from local parts" >&2
  bash scripts/local-node-image.sh peapod/node-base:20
fi
