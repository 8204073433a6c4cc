# Sourced by the shell tests: same_checkpoint <reference> <candidate> fails (through the
# caller's `fail`) unless both folders hold the same files with the same bytes, the run
# report (whose timings differ) aside.
same_checkpoint() {
  local names_ref names_out
  names_ref="$(cd "$1" && ls | grep -v '^dcomp_report.json$')"
  names_out="$(cd "$2" && ls | grep -v '^dcomp_report.json$')"
  [ "$names_ref" = "$names_out" ] || fail "$2 holds other files than $1"
  for name in $names_ref; do cmp "$1/$name" "$2/$name" || fail "$2/$name differs from $1/$name"; done
}
