#!/usr/bin/env bash
# Open MPI's launch agent (--mca plm_rsh_agent) for the nodes of two_nodes.sh, in place of
# ssh: `netns_agent.sh <node> <command words...>` runs the words, joined as ssh joins them,
# with sh on that node (tests/cluster/on_node.sh), in a fresh login-like environment (PATH,
# HOME, the node map) as an ssh session starts: what mpirun forwards is all the remote ranks get.
# reference: Open MPI 4.1 mpirun(1) "Remote execution" and orte plm_rsh (agent <host> <orted command>).
set -euo pipefail
node="$1"; shift
scripts="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME="${HOME:-/root}" \
  TWO_NODES_MAP="$TWO_NODES_MAP" "$scripts/on_node.sh" "$node" sh -c "$*"
