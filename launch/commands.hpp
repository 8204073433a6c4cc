// The subcommands of the `dcomp` executable. Each add_*_command registers one
// subcommand (its flags and its callback) on the application.
#pragma once

namespace CLI {
class App;
}

namespace dcomp::launch {

void add_version_command(CLI::App& app);
void add_oneshot_command(CLI::App& app);
void add_create_model_command(CLI::App& app);
void add_slurm_script_command(CLI::App& app);
void add_inspect_command(CLI::App& app);
void add_generate_command(CLI::App& app);
void add_eval_command(CLI::App& app);
void add_modifiers_command(CLI::App& app);
void add_convert_gguf_command(CLI::App& app);

}  // namespace dcomp::launch
