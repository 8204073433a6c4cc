#!/usr/bin/env bash
# dcomp's multi-rank tests on 2 simulated nodes x 2 ranks (tests/cluster/two_nodes.sh), with
# mpirun over TCP between the nodes (mpirun_two_nodes.sh) in place of the one-node launcher:
#   rank_invariance  tests/mpi/oneshot_rank_invariance.sh, TinyStories-656K GPTQ W4A16:
#                    4 ranks on 2 nodes write the same bytes as 1 rank
#   kill_rank        tests/mpi/kill_rank_test.sh: rank 3, on the second node, killed with
#                    SIGKILL; the job ends with an error and no output folder
#   resume           tests/mpi/resume_after_kill.sh: killed on 2 x 2 (rank 3, second node) and
#                    on 1 node x 2, resumed on 2 x 2; the same bytes as an uninterrupted 1-rank run
#   unshared_output  an output in /tmp, which is each node's own: the ranks on the second node
#                    do not see rank 0's temporary folder; every rank stops with a message
#                    naming them and their host, and no folder is left on either node
# After the test no process may be left on either node (ranks, Open MPI daemons).
# Usage: two_node_test.sh rank_invariance|kill_rank|resume|unshared_output <dcomp binary> [shared data folder]
set -euo pipefail
name="${1:?usage: two_node_test.sh rank_invariance|kill_rank|resume|unshared_output <dcomp binary> [shared data folder]}"
dcomp="$2"; data="${3:-}"
here="$(cd "$(dirname "$0")" && pwd)"
case "$name" in
  rank_invariance|unshared_output) [ -d "$data/tinystories-656k" ] || { echo "SKIP: shared data folder not found: $data"; exit 77; } ;;
  resume) [ -d "$data/stories260k" ] || { echo "SKIP: shared data folder not found: $data"; exit 77; } ;;
  kill_rank) ;;
  *) echo "unknown test '$name'" >&2; exit 2 ;;
esac
source "$here/two_nodes.sh"
two_nodes_setup

# The launcher first: 2 ranks on each node.
placement=$("$TWO_NODES_MPIRUN" -np 4 hostname | sort | uniq -c | awk '{print $2 "=" $1}' | tr '\n' ' ')
[ "$placement" = "$TWO_NODES_NODE_A=2 $TWO_NODES_NODE_B=2 " ] || { echo "FAIL: ranks per node: $placement"; exit 1; }
echo "mpirun -np 4 places $placement"

unshared_output_test() {
  local log="$TWO_NODES_SHARED/unshared.log" code=0 left
  "$TWO_NODES_MPIRUN" -np 4 "$(realpath "$dcomp")" --log-level warn oneshot --model "$data/tinystories-656k" \
    --scheme W4A16 --dataset "$data/text/tinystories_valid_sample.txt" --num-calibration-samples 8 \
    --max-seq-length 128 --threads 1 --output /tmp/node-local-out >"$log" 2>&1 || code=$?
  grep "dcomp: error" "$log" | head -n 4
  [ "$code" -ne 0 ] || { echo "FAIL: the run exited 0 with an output only node A sees"; return 1; }
  grep -q "not visible to rank 2 on host $TWO_NODES_NODE_B, rank 3 on host $TWO_NODES_NODE_B (rank 0 is on host $TWO_NODES_NODE_A); the output folder must be on a file system that every node shares" "$log" ||
    { tail -n 30 "$log"; echo "FAIL: no message naming the ranks on $TWO_NODES_NODE_B"; return 1; }
  for node in "$TWO_NODES_NODE_A" "$TWO_NODES_NODE_B"; do
    left=$(on_node "$node" sh -c 'ls -d /tmp/node-local-out* 2>/dev/null' || true)
    [ -z "$left" ] || { echo "FAIL: left on $node: $left"; return 1; }
  done
  echo "output on node-local /tmp: exit code $code, every rank stopped, nothing left on either node"
}

export DCOMP_MPIRUN="$TWO_NODES_MPIRUN"
export TMPDIR="$TWO_NODES_SHARED"  # the tests' folders where both nodes see them
status=0
case "$name" in
  rank_invariance)
    DCOMP_RANK_COUNTS="1 4" DCOMP_INVARIANCE_JOBS=tinystories-656k \
      "$here/../mpi/oneshot_rank_invariance.sh" "$dcomp" "$data" || status=$? ;;
  kill_rank)
    DCOMP_KILL_RANKS=4 "$here/../mpi/kill_rank_test.sh" "$dcomp" || status=$? ;;
  resume)
    DCOMP_RESUME_CASES="4 3:2 4, 2 1:4 4" "$here/../mpi/resume_after_kill.sh" "$dcomp" "$data" || status=$? ;;
  unshared_output) unshared_output_test || status=$? ;;
esac

# Nothing of the job may outlive it on either node.
left=""
for _ in $(seq 100); do
  left=""
  for ns in "$TWO_NODES_NS_A" "$TWO_NODES_NS_B"; do
    for pid in $(ip netns pids "$ns"); do left+=" $pid:$(cat "/proc/$pid/comm" 2>/dev/null)@${ns}"; done
  done
  [ -n "$left" ] || break
  sleep 0.1
done
if [ -n "$left" ]; then echo "FAIL: processes left on the nodes 10 s after the test:$left"; [ "$status" != 0 ] || status=1; fi
exit "$status"
