#!/usr/bin/env bash
# Builds, offline and idempotently, the images Peapod needs on a machine with no registry:
#   peapod/pause:latest   the infra container image (holds a pod's namespaces)
#   peapod/busybox:latest the image tests run their containers from
#   peapod/peapod:latest  every component, for docker-compose.yml (from the Dockerfile)
# The first two are FROM scratch with Debian's static busybox. The third is based on the
# image scripts/node-image.sh picks: node:20-bookworm-slim when it is here or pullable,
# else a stand-in made from this machine's Node.js (PEAPOD_NODE_IMAGE overrides both).
# It compiles this checkout (npm run build) and puts its dist and production node_modules
# in the image, with this machine's nft (and the libraries it loads) for the service proxy and
# its etcd (Debian's etcd-server) for the compose ha profile, so it needs `npm ci` first but
# no network. Prints the tags it built.
# Usage: scripts/build-images.sh [pause] [busybox] [peapod]   (default: all three)
set -euo pipefail
cd "$(dirname "$0")/.."

want_pause=0 want_busybox=0 want_peapod=0
[ $# -eq 0 ] && set -- pause busybox peapod
for target in "$@"; do
  case $target in
    pause) want_pause=1 ;;
    busybox) want_busybox=1 ;;
    peapod) want_peapod=1 ;;
    *) echo "build-images: unknown image $target (pause, busybox or peapod)" >&2; exit 2 ;;
  esac
done

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
  if ! docker build --force-rm -q -t "$tag" -f "$ctx/$file" "$ctx" >"$ctx/build.log" 2>&1; then
    cat "$ctx/build.log" >&2
    return 1
  fi
  echo "$tag"
}
if [ $want_busybox = 1 ]; then build peapod/busybox:latest Dockerfile.busybox; fi
if [ $want_pause = 1 ]; then build peapod/pause:latest Dockerfile.pause; fi

# A small context for peapod/peapod: this checkout compiled here, with only the production
# dependencies of node_modules (the Dockerfile then neither installs nor compiles), so that
# the build neither needs the network nor sends the whole node_modules to the daemon.
stage_production_tree() {
  local stage=$1
  mkdir -p "$stage"
  {
    echo package.json
    echo package-lock.json
    for pkg in packages/*/; do
      pkg=${pkg%/}
      echo "$pkg/package.json"
      [ -d "$pkg/dist" ] && echo "$pkg/dist"
      # A version of a dependency that differs from the hoisted one (tweetnacl 1 beside ssh2's 0.14).
      [ -d "$pkg/node_modules" ] && echo "$pkg/node_modules"
      # The workspace's link in node_modules/@peapod.
      echo "node_modules/@peapod/$(basename "$pkg")"
    done
    # Top-level packages that production code needs; nested node_modules ride along. (npm ls
    # also fails on mere warnings about the tree; what it lists is what is installed.)
    { npm ls --omit=dev --all --parseable 2>/dev/null || true; } |
      sed -n "s|^$PWD/||p" | grep -E '^node_modules/(@[^/]+/)?[^/]+$' | grep -v '^node_modules/@peapod/' | sort -u
  } >"$ctx/tree.txt"
  tar -cf - --exclude='node_modules/better-sqlite3/deps' --exclude='node_modules/better-sqlite3/src' \
    --exclude='node_modules/better-sqlite3/build/Release/obj.target' --exclude='node_modules/better-sqlite3/build/Release/.deps' \
    --exclude='node_modules/better-sqlite3/build/deps' -T "$ctx/tree.txt" | tar -C "$stage" -xf -
  cp Dockerfile "$stage/Dockerfile"
  stage_binary nft nftables "$stage/nft"
  stage_binary etcd etcd-server "$stage/etcd"
}

# The service proxy drives nftables with nft; the ha profile's etcd members run etcd. The base
# image may not have them and offline there is no package to install: this machine's copy goes
# in DIR with every library it loads and their loader, which runs it whatever the base image's
# libraries (see Dockerfile).
stage_binary() {
  local name=$1 package=$2 dir=$3 bin loader
  bin=$(command -v "$name" || true)
  if [ -z "$bin" ]; then
    echo "build-images: $name not found (apt-get install -y $package): the image will install it online or fail" >&2
    return 0
  fi
  mkdir -p "$dir/lib"
  cp -L "$bin" "$dir/$name"
  ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' | sort -u | while read -r lib; do cp -L "$lib" "$dir/lib/"; done
  loader=$(ldd "$bin" | awk '$1 ~ /^\// { print $1 }')
  basename "$loader" >"$dir/loader"
}

if [ $want_peapod = 1 ]; then
  if [ ! -d node_modules/better-sqlite3 ]; then
    echo "build-images: node_modules is missing: run npm ci first" >&2
    exit 1
  fi
  base=$(bash scripts/node-image.sh)
  npm run --silent build >"$ctx/tsc.log" 2>&1 || { cat "$ctx/tsc.log" >&2; exit 1; }
  stage_production_tree "$ctx/peapod"
  if ! docker build --force-rm -q -t peapod/peapod:latest --build-arg NODE_IMAGE="$base" "$ctx/peapod" >"$ctx/build.log" 2>&1; then
    cat "$ctx/build.log" >&2
    exit 1
  fi
  echo peapod/peapod:latest
  # The untagged build stage and any earlier peapod/peapod hold a copy of node_modules each:
  # left alone they pile up on every change.
  docker image prune -f --filter label=peapod.image >/dev/null
fi
