// How the CLI reports failures and the version.
#pragma once

#include <exception>
#include <ostream>

namespace dcomp::launch {

/// Prints "dcomp: error: <what>" to stderr and returns the process exit code (1).
int report_fatal(const std::exception& error);
/// Exit code requested by the subcommand that ran (0 unless it set one).
int exit_code();
void set_exit_code(int code);
/// "dcomp <version>" and the backends compiled in.
void print_version(std::ostream& out);

}  // namespace dcomp::launch
