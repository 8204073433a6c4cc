#!/usr/bin/env bash
# Two simulated cluster nodes on this machine: two network namespaces joined by a veth pair
# (interface dcn0 in each, 10.X.Y.1/24 and 10.X.Y.2/24, lo up); each node's processes run
# in their own UTS namespace with the node's host name, and see an /etc/hosts that names both
# nodes and a /tmp of the node's own (tests/cluster/on_node.sh).
# The veth pair is the only link of either namespace: no traffic leaves them. Both nodes
# see this machine's file system, as the nodes of a cluster see their shared file system,
# except /tmp, node-local as on a cluster; $TWO_NODES_SHARED is a shared scratch folder.
#
# Sourced by the cluster tests:
#   source tests/cluster/two_nodes.sh
#   two_nodes_setup                 # or exits 77 (SKIP) without the privilege to create them
#   two_nodes_at_exit 'rm -rf "$work"'
#   on_node "$TWO_NODES_NODE_B" hostname
#   "$TWO_NODES_MPIRUN" -np 4 prog  # mpirun from node A over TCP, 2 slots per node
# Everything (processes in the namespaces, the namespaces, the veth pair, the hosts file)
# is removed when the sourcing shell exits, after a failure too.
#
# Self-test: two_nodes.sh --self-test [test_comm binary]: connectivity, isolation, mpirun
# with 2 ranks per node, and, given dcomp's communicator test, its collectives over the veth.
# reference: ip-netns(8), veth(4), nsenter(1), unshare(1); Open MPI 4.1 mpirun(1) (--hostfile, plm_rsh_agent,
# btl_tcp_if_include, oob_tcp_if_include).

TWO_NODES_SCRIPTS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TWO_NODES_MPIRUN="$TWO_NODES_SCRIPTS/mpirun_two_nodes.sh"
TWO_NODES_IFACE=dcn0
TWO_NODES_NODE_A=nodea
TWO_NODES_NODE_B=nodeb
_two_nodes_cleanups=()
_two_nodes_namespaces=()

# Runs a command when the sourcing shell exits (the last registered runs first).
two_nodes_at_exit() { _two_nodes_cleanups=("$1" "${_two_nodes_cleanups[@]}"); }

# The processes still running in a namespace are ended by their ids: TERM, then KILL after 5 s.
_two_nodes_end_processes() {
  local ns="$1" pids
  pids=$(ip netns pids "$ns" 2>/dev/null | tr '\n' ' ')
  [ -n "$pids" ] || return 0
  # shellcheck disable=SC2086  # one argument per process id
  kill -TERM $pids 2>/dev/null || true
  for _ in $(seq 50); do
    pids=$(ip netns pids "$ns" 2>/dev/null | tr '\n' ' ')
    [ -n "$pids" ] || return 0
    sleep 0.1
  done
  # shellcheck disable=SC2086
  kill -KILL $pids 2>/dev/null || true
  sleep 0.2
}

two_nodes_cleanup() {
  local status=$? command ns
  trap - EXIT INT TERM
  for command in "${_two_nodes_cleanups[@]}"; do eval "$command" || true; done
  for ns in "${_two_nodes_namespaces[@]}"; do _two_nodes_end_processes "$ns"; done
  for ns in "${_two_nodes_namespaces[@]}"; do
    ip netns del "$ns" 2>/dev/null || true  # takes its end of the veth pair with it
  done
  [ -z "${TWO_NODES_DIR:-}" ] || rm -rf "$TWO_NODES_DIR"
  exit "$status"
}

# Exits 77 with the reason when this machine cannot make the namespaces.
_two_nodes_require() {
  local tool
  for tool in ip unshare nsenter; do
    command -v "$tool" >/dev/null || { echo "SKIP: '$tool' is not installed (iproute2, util-linux)"; exit 77; }
  done
  if [ "$(id -u)" != 0 ]; then
    echo "SKIP: simulating two nodes needs root (network and UTS namespaces, a veth pair)"; exit 77
  fi
}

# What an earlier run left when it was killed without its EXIT trap (SIGKILL, e.g. a test
# timeout): its namespaces and folder, named with its process id, which no longer runs.
_two_nodes_remove_stale() {
  local ns pid folder
  for ns in $(ip netns list 2>/dev/null | awk '$1 ~ /^dcomp-node[ab]-[0-9]+$/ {print $1}'); do
    pid="${ns##*-}"
    kill -0 "$pid" 2>/dev/null && continue
    _two_nodes_end_processes "$ns"
    ip netns del "$ns" 2>/dev/null || true
  done
  for folder in /var/tmp/dcomp-two-nodes.*.*; do
    [ -d "$folder" ] || continue
    pid="${folder#/var/tmp/dcomp-two-nodes.}"; pid="${pid%%.*}"
    kill -0 "$pid" 2>/dev/null || rm -rf "$folder"
  done
}

two_nodes_setup() {
  _two_nodes_require
  _two_nodes_remove_stale
  local id=$$ error
  TWO_NODES_NS_A="dcomp-nodea-$id"
  TWO_NODES_NS_B="dcomp-nodeb-$id"
  # The two addresses of this run: 10.X.Y.0/24 with X.Y from the process id (the namespaces
  # are isolated, so only readability asks for a different network per run).
  local subnet="10.$(( (id >> 8) & 255 )).$(( id & 255 ))"
  TWO_NODES_ADDR_A="$subnet.1"
  TWO_NODES_ADDR_B="$subnet.2"
  # Outside /tmp, which is node-local on the nodes: the state (node map, hosts file, each
  # node's /tmp) and the shared folder for the tests' files ($TWO_NODES_SHARED).
  TWO_NODES_DIR="$(mktemp -d "/var/tmp/dcomp-two-nodes.$id.XXXXXX")"
  TWO_NODES_SHARED="$TWO_NODES_DIR/shared"
  mkdir -p "$TWO_NODES_SHARED" "$TWO_NODES_DIR/tmp-$TWO_NODES_NODE_A" "$TWO_NODES_DIR/tmp-$TWO_NODES_NODE_B"
  chmod 1777 "$TWO_NODES_DIR/tmp-$TWO_NODES_NODE_A" "$TWO_NODES_DIR/tmp-$TWO_NODES_NODE_B"
  trap two_nodes_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  for ns in "$TWO_NODES_NS_A" "$TWO_NODES_NS_B"; do
    if ! error=$(ip netns add "$ns" 2>&1); then
      echo "SKIP: cannot create the network namespace $ns: $error"; exit 77
    fi
    _two_nodes_namespaces+=("$ns")
  done
  ip link add "$TWO_NODES_IFACE" netns "$TWO_NODES_NS_A" type veth peer name "$TWO_NODES_IFACE" netns "$TWO_NODES_NS_B" ||
    { echo "SKIP: cannot create a veth pair between $TWO_NODES_NS_A and $TWO_NODES_NS_B"; exit 77; }
  ip -n "$TWO_NODES_NS_A" addr add "$TWO_NODES_ADDR_A/24" dev "$TWO_NODES_IFACE"
  ip -n "$TWO_NODES_NS_B" addr add "$TWO_NODES_ADDR_B/24" dev "$TWO_NODES_IFACE"
  for ns in "$TWO_NODES_NS_A" "$TWO_NODES_NS_B"; do
    ip -n "$ns" link set lo up
    ip -n "$ns" link set "$TWO_NODES_IFACE" up
  done
  # The nodes' /etc/hosts (on_node.sh binds it there): both names, nothing else.
  printf '127.0.0.1 localhost\n%s %s\n%s %s\n' "$TWO_NODES_ADDR_A" "$TWO_NODES_NODE_A" \
    "$TWO_NODES_ADDR_B" "$TWO_NODES_NODE_B" >"$TWO_NODES_DIR/hosts"
  # Read by the launch agent and the mpirun wrapper: node name, namespace, address.
  TWO_NODES_MAP="$TWO_NODES_DIR/nodes"
  printf '%s %s %s\n%s %s %s\n' "$TWO_NODES_NODE_A" "$TWO_NODES_NS_A" "$TWO_NODES_ADDR_A" \
    "$TWO_NODES_NODE_B" "$TWO_NODES_NS_B" "$TWO_NODES_ADDR_B" >"$TWO_NODES_MAP"
  printf '%s slots=2\n%s slots=2\n' "$TWO_NODES_NODE_A" "$TWO_NODES_NODE_B" >"$TWO_NODES_DIR/hostfile"
  TWO_NODES_HOSTFILE="$TWO_NODES_DIR/hostfile"
  export TWO_NODES_MAP TWO_NODES_HOSTFILE TWO_NODES_IFACE TWO_NODES_NODE_A TWO_NODES_NODE_B
  # The link needs a moment to come up (carrier on both ends).
  for _ in $(seq 50); do
    ip -n "$TWO_NODES_NS_A" -o link show "$TWO_NODES_IFACE" | grep -q 'state UP' && break
    sleep 0.1
  done
  echo "two nodes: $TWO_NODES_NODE_A ($TWO_NODES_NS_A, $TWO_NODES_ADDR_A) and $TWO_NODES_NODE_B" \
    "($TWO_NODES_NS_B, $TWO_NODES_ADDR_B), joined by $TWO_NODES_IFACE"
}

# on_node <node name> <command> [arguments...]: runs the command on that node.
on_node() {
  "$TWO_NODES_SCRIPTS/on_node.sh" "$@"
}

# Self-test.
_two_nodes_self_test() {
  local test_comm="${1:-}" names counts
  two_nodes_setup
  [ "$(on_node "$TWO_NODES_NODE_A" hostname)" = "$TWO_NODES_NODE_A" ] || { echo "FAIL: node A's host name"; exit 1; }
  [ "$(on_node "$TWO_NODES_NODE_B" hostname)" = "$TWO_NODES_NODE_B" ] || { echo "FAIL: node B's host name"; exit 1; }
  [ "$(hostname)" != "$TWO_NODES_NODE_A" ] || { echo "FAIL: this machine's host name changed"; exit 1; }
  # Isolation: the only route of a node is the veth network; nothing reaches the outside.
  local routes
  routes=$(ip -n "$TWO_NODES_NS_B" route show | tr '\n' ';')
  [ "$routes" = "${TWO_NODES_ADDR_A%.*}.0/24 dev $TWO_NODES_IFACE proto kernel scope link src $TWO_NODES_ADDR_B ;" ] ||
    { echo "FAIL: unexpected routes on node B: $routes"; exit 1; }
  if on_node "$TWO_NODES_NODE_B" bash -c 'exec 3<>/dev/tcp/1.1.1.1/53' 2>/dev/null; then
    echo "FAIL: node B reaches an outside address"; exit 1
  fi
  # TCP across the veth, by name: a listener on node B, a client on node A.
  on_node "$TWO_NODES_NODE_B" python3 -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 17999)); s.listen(1); s.settimeout(20)
c, _ = s.accept(); c.sendall(socket.gethostname().encode()); c.close()' &
  local listener=$! reply=""
  for _ in $(seq 50); do
    reply=$(on_node "$TWO_NODES_NODE_A" bash -c "exec 3<>/dev/tcp/$TWO_NODES_NODE_B/17999 && cat <&3" 2>/dev/null) && break
    sleep 0.1
  done
  wait "$listener" || true
  [ "$reply" = "$TWO_NODES_NODE_B" ] || { echo "FAIL: no TCP connection from node A to node B ('$reply')"; exit 1; }
  echo "TCP from $TWO_NODES_NODE_A to $TWO_NODES_NODE_B:17999 answered by host '$reply'"
  # mpirun: 4 ranks, 2 on each node.
  names=$("$TWO_NODES_MPIRUN" -np 4 hostname) || { echo "FAIL: mpirun hostname"; echo "$names"; exit 1; }
  counts=$(sort <<<"$names" | uniq -c | awk '{print $2 "=" $1}' | tr '\n' ' ')
  echo "mpirun -np 4 hostname: $counts"
  [ "$counts" = "$TWO_NODES_NODE_A=2 $TWO_NODES_NODE_B=2 " ] || { echo "FAIL: not 2 ranks on each node"; exit 1; }
  if [ -n "$test_comm" ]; then
    # One-sided windows (the collective watchdog's progress board) between nodes over TCP:
    # Debian's /etc/openmpi/openmpi-mca-params.conf excludes osc pt2pt and ucx, and osc rdma
    # needs an RDMA-capable transport, so without this MPI_Win_allocate fails across nodes
    # (dcomp runs without the board: a collective timeout then cannot name the rank behind).
    "$TWO_NODES_MPIRUN" --mca osc pt2pt -np 4 "$test_comm" --gtest_brief=1 ||
      { echo "FAIL: the communicator test on 2 nodes x 2 ranks"; exit 1; }
    echo "communicator collectives passed on 2 nodes x 2 ranks over TCP"
  fi
  echo "two nodes self-test passed"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  [ "${1:-}" = --self-test ] || { echo "usage: $0 --self-test [test_comm binary]  (or source it)" >&2; exit 2; }
  _two_nodes_self_test "${2:-}"
fi
