#!/usr/bin/env bash
# Removes what Peapod agents left in Docker: every container (infra and app) and emptyDir
# volume labelled peapod.managed=true, or, with --node, only those of the named nodes.
# Agents leave their pods' containers running when they stop (so a restarted agent adopts
# them); run this once the cluster is gone, e.g. after `docker-compose down`.
# Usage: scripts/cleanup-pods.sh [--node NAME]...   (prints how many it removed)
set -euo pipefail

nodes=()
while [ $# -gt 0 ]; do
  case $1 in
    --node) [ $# -ge 2 ] || { echo "cleanup-pods: --node needs a name" >&2; exit 2; }
            nodes+=("$2"); shift 2 ;;
    --node=*) nodes+=("${1#--node=}"); shift ;;
    -h|--help) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "cleanup-pods: unknown argument $1 (usage: cleanup-pods.sh [--node NAME]...)" >&2; exit 2 ;;
  esac
done

filters=()
if [ ${#nodes[@]} -eq 0 ]; then
  filters+=("--filter label=peapod.managed=true")
else
  for n in "${nodes[@]}"; do filters+=("--filter label=peapod.managed=true --filter label=peapod.node=$n"); done
fi

containers=0
volumes=0
for f in "${filters[@]}"; do
  # shellcheck disable=SC2086 # $f holds several --filter words on purpose
  ids=$(docker ps -aq $f)
  if [ -n "$ids" ]; then
    # shellcheck disable=SC2086
    docker rm -f -v $ids >/dev/null
    containers=$((containers + $(echo "$ids" | wc -l)))
  fi
  # shellcheck disable=SC2086
  vols=$(docker volume ls -q $f)
  if [ -n "$vols" ]; then
    # shellcheck disable=SC2086
    docker volume rm -f $vols >/dev/null
    volumes=$((volumes + $(echo "$vols" | wc -l)))
  fi
done
echo "cleanup-pods: removed $containers container(s) and $volumes volume(s)"
