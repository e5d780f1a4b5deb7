#!/usr/bin/env bash
# Builds, offline and idempotently, the images Peapod needs on a machine with no registry:
#   peapod/pause:latest  the infra container image (holds a pod's namespaces)
#   peapod/busybox:latest the image tests run their containers from
# Both are FROM scratch with Debian's static busybox. Prints the tags it built.
set -euo pipefail

busybox=${BUSYBOX:-/bin/busybox}
if [ ! -x "$busybox" ]; then
  echo "build-images: $busybox not found: apt-get install -y busybox-static" >&2
  exit 1
fi

ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
cp "$busybox" "$ctx/busybox"

cat >"$ctx/Dockerfile.busybox" <<'DOCKERFILE'
FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
ENV PATH=/bin
CMD ["/bin/sh"]
DOCKERFILE

# The infra container only has to hold its namespaces until it is told to stop.
cat >"$ctx/Dockerfile.pause" <<'DOCKERFILE'
FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
ENV PATH=/bin
STOPSIGNAL SIGTERM
CMD ["/bin/sh", "-c", "trap 'exit 0' TERM INT; while :; do sleep 3600 & wait $!; done"]
DOCKERFILE

build() {
  local tag=$1 file=$2
  # The legacy builder warns about BuildKit on stderr: show that only on failure.
  if ! docker build -q -t "$tag" -f "$ctx/$file" "$ctx" >"$ctx/build.log" 2>&1; then
    cat "$ctx/build.log" >&2
    return 1
  fi
  echo "$tag"
}
build peapod/busybox:latest Dockerfile.busybox
build peapod/pause:latest Dockerfile.pause
