#!/usr/bin/env bash
# Checks the layering of dcomp's sources: every #include of the product code goes down the
# layers, never up, and each kernels/ folder includes only what its library links.
#
#   layers     kernels/ <- lifecycle/ <- pipeline/ <- actors/ <- launch/
#              a file may include its own layer and those to its left; "dcomp/..." (the
#              header CMake generates from cmake/build_info.hpp.in) is open to every layer.
#   libraries  CAF (caf/) from actors/ up, CLI11 (CLI/) in launch/ only, spdlog and yaml-cpp
#              from lifecycle/ up: kernels/ builds without them (-DDCOMP_KERNELS_ONLY=ON).
#   kernels/   kernels/A may include kernels/B only when dcomp_A links dcomp_B (directly or
#              through other libraries) in CMakeLists.txt or kernels/*/CMakeLists.txt, and
#              LibTorch (ATen/, c10/, torch/), nlohmann-json (nlohmann/) and RE2 (re2/) only
#              when dcomp_A links them: the link graph CMake builds is the documented order.
#   paths      includes are written from the repository root (no "../"), and product code
#              never includes tests/, bench/ or cmake/.
#   links      in CMake too, a layer's library links only libraries of its own and lower layers
#              (dcomp_lifecycle never dcomp_actors or CAF::core).
#
# Prints FILE:LINE: the include and the rule it breaks for each violation, and exits 1 when
# there is any (2 when the tree cannot be read). Takes a few tenths of a second.
# Usage: launch/check-layering.sh [REPOSITORY_ROOT]   (default: this script's repository)
set -euo pipefail
root="${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
cd "$root" || { echo "check-layering: cannot enter $root" >&2; exit 2; }
layers=(kernels lifecycle pipeline actors launch)
for layer in "${layers[@]}"; do
  [ -d "$layer" ] || { echo "check-layering: $root/$layer: no such folder" >&2; exit 2; }
done
[ -f CMakeLists.txt ] || { echo "check-layering: $root/CMakeLists.txt: no such file" >&2; exit 2; }

# The link graph of the libraries: one "FILE LIBRARY DEPENDENCY..." line per
# dcomp_add_library / target_link_libraries call (comments dropped, calls joined onto one
# line; CMake keywords such as PUBLIC and PCH stay in and are never a library's name).
link_graph() {
  local file
  for file in CMakeLists.txt kernels/*/CMakeLists.txt launch/CMakeLists.txt; do
    [ -f "$file" ] || continue
    sed 's/#.*//' "$file" | tr '\n' ' ' | tr ')' '\n' |
      sed -nE "s#.*(dcomp_add_library|target_link_libraries)[[:space:]]*\\((.*)#$file \\2#p"
  done
}

# Every include of the product code: FILE:LINE:TEXT.
sources=$(find "${layers[@]}" -type f \( -name '*.hpp' -o -name '*.cpp' -o -name '*.h' -o -name '*.cu' \
  -o -name '*.cuh' -o -name '*.in' \) | LC_ALL=C sort)
[ -n "$sources" ] || { echo "check-layering: no sources under ${layers[*]} in $root" >&2; exit 2; }
kernel_folders=$(find kernels -mindepth 1 -maxdepth 1 -type d -printf '%f\n' | LC_ALL=C sort | tr '\n' ' ')

# shellcheck disable=SC2086
grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*["<]' $sources /dev/null |
  awk -v layer_order="${layers[*]}" -v kernel_folders="$kernel_folders" -v graph="$(link_graph)" '
    BEGIN {
      count = split(layer_order, names, " ")
      for (i = 1; i <= count; i++) rank[names[i]] = i
      # The lowest layer that may use each library (by its include folder).
      lowest["caf"] = "actors"; lowest["CLI"] = "launch"
      lowest["spdlog"] = "lifecycle"; lowest["yaml-cpp"] = "lifecycle"
      forbidden["tests"] = 1; forbidden["bench"] = 1; forbidden["cmake"] = 1
      # What linking a CMake name gives a kernels/ file leave to include.
      gives["${TORCH_LIBRARIES}"] = "ATen c10 torch"
      gives["nlohmann_json::nlohmann_json"] = "nlohmann"
      gives["dcomp_re2"] = "re2"
      # The layer of each library of dcomp and of each library it uses (the lowest that may link it).
      folders = split(kernel_folders, kernel, " ")
      for (i = 1; i <= folders; i++) layer_of["dcomp_" kernel[i]] = "kernels"
      layer_of["dcomp_kernels"] = "kernels"; layer_of["dcomp_lifecycle"] = "lifecycle"
      layer_of["dcomp_pipeline"] = "pipeline"; layer_of["dcomp_actors"] = "actors"
      layer_of["dcomp_commands"] = "launch"; layer_of["dcomp"] = "launch"
      needs["CAF::core"] = "actors"; needs["CAF::io"] = "actors"; needs["CLI11::CLI11"] = "launch"
      needs["spdlog::spdlog"] = "lifecycle"; needs["yaml-cpp"] = "lifecycle"
      # links[L]: everything L links; shared[L]: what it passes on to its dependents (not PRIVATE).
      lines = split(graph, calls, "\n")
      for (i = 1; i <= lines; i++) {
        n = split(calls[i], words, /[[:space:]]+/)
        first = (words[1] == "") ? 2 : 1
        cmake_file = words[first]
        name = words[first + 1]
        private = 0
        for (j = first + 2; j <= n; j++) {
          if (words[j] == "PRIVATE") private = 1
          else if (words[j] == "PUBLIC" || words[j] == "INTERFACE") private = 0
          else if (words[j] != "") {
            links[name] = links[name] " " words[j]
            if (!private) shared[name] = shared[name] " " words[j]
            upward_link(cmake_file, name, words[j])
          }
        }
      }
      for (i = 1; i <= folders; i++) {
        folder = kernel[i]
        if (!(("dcomp_" folder) in links)) {
          printf "check-layering: kernels/%s has no library dcomp_%s in CMakeLists.txt or kernels/%s/CMakeLists.txt\n",
                 folder, folder, folder > "/dev/stderr"
          unreadable = 1
          exit 2
        }
        reach("dcomp_" folder, folder, 1)
      }
    }
    # Marks what FOLDER may include through LIBRARY: all that LIBRARY links when OWN (FOLDER
    # holds the sources of LIBRARY), else what LIBRARY passes on to its dependents; then down.
    function reach(library, folder, own,    deps, n, k, dep, made, m, j2) {
      if ((folder SUBSEP library) in seen) return
      seen[folder, library] = 1
      n = split(own ? links[library] : shared[library], deps, " ")
      for (k = 1; k <= n; k++) {
        dep = deps[k]
        if (dep ~ /^dcomp_/) may[folder, substr(dep, 7)] = 1
        if (dep in gives) {
          m = split(gives[dep], made, " ")
          for (j2 = 1; j2 <= m; j2++) may[folder, made[j2]] = 1
        }
        if (dep in links) reach(dep, folder, 0)
      }
    }
    # A library of one layer linking a library of a higher one (or one kept for a higher layer).
    function upward_link(cmake_file, library, dep,    need) {
      if (!(library in layer_of)) return
      need = (dep in layer_of) ? layer_of[dep] : ((dep in needs) ? needs[dep] : "")
      if (need == "" || rank[need] <= rank[layer_of[library]]) return
      printf "%s: %s links %s: %s/ must not depend on %s/ (layers, lowest first: %s)\n",
             cmake_file, library, dep, layer_of[library], need, layer_order
      violations++
    }
    function report(rule) {
      printf "%s:%s: #include %s: %s\n", file, line, target, rule
      violations++
    }
    {
      file = $0; sub(/:.*/, "", file)
      checked[file] = 1
      rest = substr($0, length(file) + 2)
      line = rest; sub(/:.*/, "", line)
      text = substr(rest, length(line) + 2)
      if (!match(text, /["<][^">]+[">]/)) next
      target = substr(text, RSTART, RLENGTH)
      path = substr(target, 2, RLENGTH - 2)
      split(file, where, "/")
      layer = where[1]
      if (index(path, "/") == 0) next  # a header of the same folder or a system header
      split(path, parts, "/")
      head = parts[1]
      if (path ~ /(^|\/)\.\.(\/|$)/) {
        report("include paths are written from the repository root, not relative to the file")
      } else if (head in rank) {
        if (rank[head] > rank[layer])
          report(layer "/ must not include " head "/ (layers, lowest first: " layer_order ")")
        else if (layer == "kernels" && head == "kernels" && parts[2] != where[2] && !((where[2] SUBSEP parts[2]) in may))
          report("kernels/" where[2] " must not include kernels/" parts[2] ": dcomp_" where[2] \
                 " does not link dcomp_" parts[2] " (CMakeLists.txt)")
      } else if (head in forbidden) {
        report("product code must not include " head "/")
      } else if ((head in lowest) && rank[lowest[head]] > rank[layer]) {
        report(layer "/ must not include " head "/ (" head "/ is for " lowest[head] "/ and the layers above it)")
      } else if (layer == "kernels" && (head == "ATen" || head == "c10" || head == "torch" || head == "nlohmann" ||
                                        head == "re2") && !((where[2] SUBSEP head) in may)) {
        report("kernels/" where[2] " must not include " head "/: dcomp_" where[2] " does not link it (CMakeLists.txt)")
      }
    }
    END {
      if (unreadable) exit 2
      if (violations) {
        printf "check-layering: %d layering violation(s)\n", violations
        exit 1
      }
      n = 0
      for (f in checked) n++
      printf "check-layering: %d files with includes checked, no layering violations\n", n
    }'
