# Sourced by the tests that run one oneshot job two ways and require the same tensors.
# The caller sets $dcomp (the binary) and $work (a scratch folder) and defines
# `variant_flags <variant>`, printing that variant's extra oneshot flags.
# run_variants <name> <ranks> <first variant> <second variant> <oneshot args...>: runs both,
# prints their tensor digests, sets status=1 when they differ.
here_support="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
run_variants() {
  local name="$1" ranks="$2" first="$3" second="$4"
  shift 4
  local sums=() variant flags launcher
  for variant in "$first" "$second"; do
    read -r -a flags <<<"$(variant_flags "$variant")"
    launcher=()
    [ "$ranks" -gt 1 ] && launcher=(mpirun --allow-run-as-root --oversubscribe -np "$ranks")
    "${launcher[@]}" "$dcomp" --log-level warn oneshot "$@" "${flags[@]}" --output "$work/$name-$variant"
    sums+=("$(python3 "$here_support/../mpi/tensor_digest.py" "$work/$name-$variant" | sha256sum | cut -d' ' -f1)")
    rm -rf "${work:?}/$name-$variant"
  done
  echo "$name: $first ${sums[0]}, $second ${sums[1]}"
  [ "${sums[0]}" = "${sums[1]}" ] || { echo "MISMATCH: $name"; status=1; }
}
