#!/usr/bin/env bash
# mpirun across the two nodes of two_nodes.sh: started on node A with the hostfile of both
# nodes (2 slots each, filled in order: ranks 0-1 on node A, 2-3 on node B), the remote
# daemon started by netns_agent.sh, and every byte between ranks and daemons over TCP on the
# veth interface (no shared-memory transport, as between real nodes). The arguments are
# mpirun's: mpirun_two_nodes.sh -np 4 [-x VAR] program [arguments...].
# reference: Open MPI 4.1 mpirun(1), ompi_info --param btl tcp / oob tcp.
set -euo pipefail
: "${TWO_NODES_MAP:?TWO_NODES_MAP is not set: source tests/cluster/two_nodes.sh and call two_nodes_setup}"
scripts="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# TMPDIR is left behind as ssh leaves it: /tmp is each node's own.
exec env -u TMPDIR "$scripts/on_node.sh" "$TWO_NODES_NODE_A" mpirun --allow-run-as-root --hostfile "$TWO_NODES_HOSTFILE" \
  --mca plm rsh --mca plm_rsh_agent "$scripts/netns_agent.sh" \
  --mca btl tcp,self --mca btl_tcp_if_include "$TWO_NODES_IFACE" --mca oob_tcp_if_include "$TWO_NODES_IFACE" \
  "$@"
