#!/usr/bin/env bash
# Builds peapod/node-base:20, a stand-in for node:20-bookworm-slim made from this machine's
# own parts, for hosts that cannot pull from a registry: FROM scratch with the local Node.js
# binary and npm, the shared libraries that node and the native addons in node_modules load
# (as ldd lists them), and Debian's static busybox for a shell. Laid out like the official
# image (/usr/local/bin/node, npm, a `node` user), so the Dockerfile works on either.
# Usage: scripts/local-node-image.sh [TAG]   (prints the tag it built)
set -euo pipefail
cd "$(dirname "$0")/.."

tag=${1:-peapod/node-base:20}
busybox=${BUSYBOX:-/bin/busybox}
node_bin=$(readlink -f "$(command -v node)")
npm_dir=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")

if [ ! -x "$busybox" ]; then
  echo "local-node-image: $busybox not found: apt-get install -y busybox-static" >&2
  exit 1
fi
if [ "$("$node_bin" -p 'process.versions.node.split(".")[0]')" != 20 ]; then
  echo "local-node-image: $node_bin is not Node.js 20; the image must match the ABI of node_modules" >&2
  exit 1
fi

ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
root=$ctx/rootfs
mkdir -p "$root/usr/local/bin" "$root/usr/local/lib/node_modules" "$root/usr/bin" "$root/bin" "$root/etc" "$root/tmp"
cp "$node_bin" "$root/usr/local/bin/node"
cp -a "$npm_dir" "$root/usr/local/lib/node_modules/npm"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
cp "$busybox" "$root/bin/busybox"
# Scripts (npm among them) start with #!/usr/bin/env.
ln -s /bin/busybox "$root/usr/bin/env"

# Every library node or an addon links, at the path the dynamic loader looks for it.
{
  ldd "$node_bin"
  if [ -d node_modules ]; then
    find node_modules -name '*.node' -not -path '*/obj.target/*' -exec ldd {} \;
  fi
} | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' | sort -u |
  while read -r lib; do
    cp -L --parents "$lib" "$root"
  done

cat >"$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
node:x:1000:1000::/home/node:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
cat >"$root/etc/group" <<'EOF'
root:x:0:
node:x:1000:
nogroup:x:65534:
EOF
# Without this file glibc asks DNS before /etc/hosts.
echo 'hosts: files dns' >"$root/etc/nsswitch.conf"

cat >"$ctx/Dockerfile" <<'DOCKERFILE'
FROM scratch
LABEL peapod.image=node-base
COPY rootfs/ /
RUN ["/bin/busybox", "--install", "-s", "/bin"]
RUN chmod 1777 /tmp && mkdir -p /root /home/node && chown 1000:1000 /home/node
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin NODE_VERSION=20
CMD ["node"]
DOCKERFILE

# The legacy builder warns about BuildKit on stderr: show that only on failure.
if ! docker build --force-rm -q -t "$tag" "$ctx" >"$ctx/build.log" 2>&1; then
  cat "$ctx/build.log" >&2
  exit 1
fi
echo "$tag"
