// The run's checks that no NaN or infinity goes into a compression or into the checkpoint:
// the weights of each layer as loaded, the statistics its calibration observed, and the
// scales of every compressed Linear handed to the checkpoint sink, for every scheme (the
// checkpoint writer then refuses any other non-finite tensor as stored). A failure is a quant::NonFiniteError
// naming the module and the first bad value; the same input fails the same way every time.
#pragma once

#include "kernels/model/embedding_and_head.hpp"
#include "lifecycle/layer_work.hpp"

namespace dcomp::pipeline {

/// The layer's Linear weights and biases and its norms as loaded, before any modifier runs:
/// "model.layers.3.mlp.down_proj: weight holds 2 non-finite values (first at [17, 5]: inf);
/// refusing to compress".
void require_finite_weights(const lifecycle::LayerWork& layer);

/// The embedding, the final norm and (when not tied) lm_head, as loaded.
void require_finite_weights(const model::EmbeddingAndHeadWeights& weights, bool tied);

/// What calibration observed of the layer's Linear inputs (Hessian sums, channel ranges,
/// mean magnitudes) and of its keys and values: infinite activations (an overflow in fp32)
/// would give NaN scales, named here with the Linears that read them.
void require_finite_statistics(const lifecycle::LayerWork& layer);

/// A compressed Linear's scales, global scales and activation scales (fp32, before the
/// writer encodes them as FP8 or E8M0 values); nothing for a Linear left dense.
void require_finite_scales(const lifecycle::LinearModule& module);

}  // namespace dcomp::pipeline
