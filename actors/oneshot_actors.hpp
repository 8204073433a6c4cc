// One-shot compression of a Hugging Face model into a compressed-tensors checkpoint: the
// library call behind `dcomp oneshot`, run by every rank. It starts the actor system and runs
// the pipeline's driver (pipeline/oneshot_driver.hpp) with its services as actors.
#pragma once

#include "kernels/comm/communicator.hpp"
#include "pipeline/oneshot_options.hpp"

namespace dcomp::actors {

/// Runs the whole compression on this rank (pipeline::run_oneshot_driver), its lifecycle, layer
/// prefetch, Hessian worker and solve team on an actor system of options.actor_threads threads.
/// Every rank of `comm` must call it with the same options. Throws on any problem; the output
/// folder then does not exist, and the progress of the completed layers stays for --resume.
pipeline::OneshotResult run_oneshot(const pipeline::OneshotOptions& options, comm::Communicator& comm);

}  // namespace dcomp::actors
