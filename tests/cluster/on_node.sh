#!/usr/bin/env bash
# on_node.sh <node> <command> [arguments...]: runs the command on one simulated node of
# two_nodes.sh: inside that node's network namespace, in a UTS namespace of its own whose
# host name is the node's. <node> is a node name or address listed in $TWO_NODES_MAP
# ("<name> <namespace> <address>" lines). The command replaces this script (same process id).
# reference: ip-netns(8) (ip netns exec), unshare(1) (--uts), hostname(1).
set -euo pipefail
node="${1:?usage: on_node.sh <node> <command> [arguments...]}"; shift
[ $# -gt 0 ] || { echo "on_node.sh: no command to run on $node" >&2; exit 2; }
map="${TWO_NODES_MAP:?TWO_NODES_MAP is not set: source tests/cluster/two_nodes.sh and call two_nodes_setup}"
read -r name namespace _ < <(awk -v node="$node" '$1 == node || $3 == node' "$map") ||
  { echo "on_node.sh: $node is not a node of $map" >&2; exit 2; }
exec ip netns exec "$namespace" unshare --uts sh -c 'hostname "$0" && exec "$@"' "$name" "$@"
