#!/usr/bin/env bash
# on_node.sh <node> <command> [arguments...]: runs the command on one simulated node of
# two_nodes.sh: in that node's network namespace, in mount and UTS namespaces of its own
# where the host name is the node's, /etc/hosts names both nodes and /tmp is the node's own
# (as on a cluster: node-local /tmp, a shared file system elsewhere). <node> is a node name or
# address listed in $TWO_NODES_MAP ("<name> <namespace> <address>" lines; the hosts file lies
# beside it). The command replaces this script (same process id). Not `ip netns exec`: that
# mounts a new /sys, without the cgroup file systems slurmd needs.
# reference: ip-netns(8) (/run/netns/<name>), nsenter(1) (--net), unshare(1) (--mount --uts).
set -euo pipefail
node="${1:?usage: on_node.sh <node> <command> [arguments...]}"; shift
[ $# -gt 0 ] || { echo "on_node.sh: no command to run on $node" >&2; exit 2; }
map="${TWO_NODES_MAP:?TWO_NODES_MAP is not set: source tests/cluster/two_nodes.sh and call two_nodes_setup}"
read -r name namespace _ < <(awk -v node="$node" '$1 == node || $3 == node' "$map") ||
  { echo "on_node.sh: $node is not a node of $map" >&2; exit 2; }
state="$(dirname "$map")"
exec nsenter --net="/run/netns/$namespace" unshare --mount --uts \
  sh -c 'mount --bind "$1" /etc/hosts && mount --bind "$2" /tmp && hostname "$0" && shift 2 && exec "$@"' \
  "$name" "$state/hosts" "$state/tmp-$name" "$@"
