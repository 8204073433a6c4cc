#!/usr/bin/env python3
"""Writes tests/ct/fixtures/fp4/model.safetensors: FP4 weights packed by compressed-tensors
itself (0.19, the version llm-compressor 0.14 uses), as the reference for dcomp's NVFP4 and
MXFP4 rounding, scales, packing and unpacking (tests/ct/test_fp4_reference.cpp).

Run by hand in a virtual environment with compressed-tensors==0.19.0 and torch; the tests only
read its output. Argument: the output folder.

Tensors (fp32 unless stated):
  values.input [1, 64]         scaled values on and between the E2M1 levels: ties, ±0, beyond ±6
  values.packed uint8 [1, 32]  cast_to_fp4 then pack_fp4_to_uint8 of values.input
  <f>.weight [48, 64]          a weight (normal, outliers, an all-zero group, tiny groups)
  <f>.weight_packed uint8 [48, 32], <f>.weight_scale, <f>.weight_global_scale (nvfp4 only):
                               what the format's compressor stores for it (calculate_qparams from
                               per-group min/max, with generate_gparam's global scale for nvfp4)
  <f>.decompressed [48, 64]    compressed-tensors' dequantize of those tensors, in fp32
for <f> in nvfp4 (F8_E4M3 scales) and mxfp4 (uint8 E8M0 scales).
"""
import os
import sys

import torch
from safetensors.torch import save_file

import compressed_tensors
from compressed_tensors.compressors.mxfp4.base import MXFP4PackedCompressor
from compressed_tensors.compressors.nvfp4.base import NVFP4PackedCompressor
from compressed_tensors.compressors.nvfp4.helpers import pack_fp4_to_uint8, unpack_fp4_from_uint8
from compressed_tensors.quantization import QuantizationScheme, preset_name_to_scheme
from compressed_tensors.quantization.lifecycle.forward import dequantize
from compressed_tensors.quantization.utils import calculate_qparams, generate_gparam
from compressed_tensors.quantization.utils.fp4_utils import cast_to_fp4
from compressed_tensors.compressors.mx_utils import decompress_mx_scale

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
torch.manual_seed(0)
tensors = {}

levels = [0.0, 0.1, 0.25, 0.26, 0.5, 0.74, 0.75, 0.76, 1.0, 1.25, 1.26, 1.5, 1.75, 2.0, 2.5, 2.6, 3.0, 3.5,
          4.0, 4.9, 5.0, 5.01, 6.0, 7.5, 100.0]
values = [v for level in levels for v in (level, -level)]
values = (values + [-0.0, 0.3, -0.3, 5.5, -5.5, 1e-8, -1e-8])[:64]
values += [0.0] * (64 - len(values))
x = torch.tensor(values, dtype=torch.float32).reshape(1, 64)
tensors["values.input"] = x
tensors["values.packed"] = pack_fp4_to_uint8(cast_to_fp4(torch.clamp(x.clone(), -6.0, 6.0)))

weight = torch.randn(48, 64) * 0.05
weight[3, 5] = 0.9       # an outlier: sets the global scale
weight[7, 16:32] = 0.0   # an all-zero group (of 16; half a group of 32)
weight[9, 32:64] *= 1e-4  # tiny groups: their FP8 scales go subnormal
weight[11, :] = torch.linspace(-0.3, 0.3, 64)
for fmt, compressor, preset in (("nvfp4", NVFP4PackedCompressor, "NVFP4A16"),
                                ("mxfp4", MXFP4PackedCompressor, "MXFP4A16")):
    scheme = preset_name_to_scheme(preset, ["Linear"])
    args = scheme.weights
    groups = weight.reshape(48, -1, args.group_size)
    global_scale = None
    if fmt == "nvfp4":
        global_scale = generate_gparam(weight.min().reshape(1), weight.max().reshape(1))
    scale, _ = calculate_qparams(groups.amin(-1), groups.amax(-1), args, global_scale=global_scale)
    state = {"weight": weight.clone(), "weight_scale": scale}
    if global_scale is not None:
        state["weight_global_scale"] = global_scale
    stored = compressor.compress(state, scheme)
    tensors[f"{fmt}.weight"] = weight.clone()
    tensors[f"{fmt}.weight_packed"] = stored["weight_packed"]
    tensors[f"{fmt}.weight_scale"] = stored["weight_scale"]
    if global_scale is not None:
        tensors[f"{fmt}.weight_global_scale"] = global_scale
    codes = unpack_fp4_from_uint8(stored["weight_packed"], 48, 64, dtype=torch.float32)
    float_scale = (stored["weight_scale"].to(torch.float32) if fmt == "nvfp4"
                   else decompress_mx_scale(stored["weight_scale"]).to(torch.float32))
    tensors[f"{fmt}.decompressed"] = dequantize(x_q=codes, scale=float_scale, args=args,
                                                global_scale=global_scale, dtype=torch.float32)
save_file({k: v.contiguous() for k, v in tensors.items()}, os.path.join(out, "model.safetensors"),
          metadata={"compressed_tensors": compressed_tensors.__version__, "torch": torch.__version__})
print(len(tensors), "tensors")
