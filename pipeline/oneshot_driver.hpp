// One-shot compression of a Hugging Face model into a compressed-tensors checkpoint, run by
// every rank, step by step: check the options and the output folder, read the model's
// configuration and input format, initialize the lifecycle with the recipe, load this rank's
// calibration samples, open the output (resuming an interrupted run's progress), run the
// layers (pipeline/sequential_run.hpp), finalize, publish the checkpoint with its run report.
// The lifecycle and the helpers that overlap the loop come from DriverServices (actors/ runs
// them as actors: actors/oneshot_actors.hpp is the call `dcomp oneshot` makes).
// reference: llm-compressor src/llmcompressor/entrypoints/oneshot.py
#pragma once

#include "kernels/comm/communicator.hpp"
#include "pipeline/driver_services.hpp"
#include "pipeline/oneshot_options.hpp"

namespace dcomp::pipeline {

/// Runs the whole compression on this rank, with the lifecycle and helpers `services` starts.
/// Every rank of `comm` must call it with the same options. Throws on any problem; the output
/// folder then does not exist (the checkpoint appears only when complete), and the progress of
/// the layers completed so far stays in the temporary folder for --resume.
OneshotResult run_oneshot_driver(const OneshotOptions& options, comm::Communicator& comm, DriverServices& services);

}  // namespace dcomp::pipeline
