# One image for every Peapod component: run `node packages/NAME/dist/main.js` (the default
# command is the API server). NODE_IMAGE is node:20-bookworm-slim, or, on a machine that
# cannot pull it, the stand-in that scripts/local-node-image.sh builds from local parts.
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
# The label lets scripts prune what earlier builds left untagged (docker image prune --filter label=peapod.image).
LABEL peapod.image=build
WORKDIR /app
COPY . .
# node_modules from the context is reused when its native addon loads on this base image
# (same platform and Node ABI, e.g. installed on this very machine): that is what lets the
# image build without network access. Otherwise dependencies come from the lockfile. When
# the tree has the TypeScript compiler (not a production-only tree such as the one
# scripts/build-images.sh assembles with dist prebuilt), the code is compiled here and the
# dev dependencies dropped.
RUN if node -e 'new (require("better-sqlite3"))(":memory:").close()' 2>/dev/null; then \
      echo "peapod: reusing the node_modules of the build context"; \
    else \
      rm -rf node_modules packages/*/node_modules e2e/node_modules \
      && npm ci --no-audit --no-fund; \
    fi \
 && if [ -d node_modules/typescript ]; then \
      npm run build && npm prune --omit=dev --no-audit --no-fund --offline; \
    fi \
 && test -f packages/apiserver/dist/main.js

FROM ${NODE_IMAGE}
LABEL peapod.image=peapod
WORKDIR /app
COPY --from=build /app /app
# The service proxy drives nftables with nft, and the compose ha profile's etcd members run
# etcd: the copies scripts/build-images.sh staged in nft/ and etcd/ (this machine's, each run
# by its own loader and libraries), else Debian's packages (online).
RUN missing= \
 && for tool in nft:nftables etcd:etcd-server; do \
      name=${tool%%:*}; \
      if [ -x /app/$name/$name ]; then \
        mkdir -p /usr/local/sbin \
        && printf '#!/bin/sh\nexec /app/%s/lib/%s --library-path /app/%s/lib /app/%s/%s "$@"\n' "$name" "$(cat /app/$name/loader)" "$name" "$name" "$name" >/usr/local/sbin/$name \
        && chmod +x /usr/local/sbin/$name; \
      elif ! command -v $name >/dev/null 2>&1; then \
        missing="$missing ${tool#*:}"; \
      fi; \
    done \
 && if [ -n "$missing" ]; then \
      apt-get update && apt-get install -y --no-install-recommends $missing && rm -rf /var/lib/apt/lists/*; \
    fi \
 && nft --version && etcd --version
ENV NODE_ENV=production
EXPOSE 6443 10250
CMD ["node", "packages/apiserver/dist/main.js", "--bind", "0.0.0.0", "--data-dir", "/var/lib/peapod"]
