#!/usr/bin/env python3
"""Negative controls for launch/interop.sh: copies of a good checkpoint, each broken in one way a
writer could get wrong, which the stage's comparison must reject (it runs them through vLLM and
transformers like the others and expects every one to fail).

  break_checkpoint.py GOOD_DIR WORK_DIR NAME MODEL ORIGINAL_DIR   (MODEL: the model's name in schemes.tsv)

Writes WORK_DIR/NAME-wrong-group-size (config_groups.*.weights.group_size doubled: the stored
scales no longer match the declared groups) and WORK_DIR/NAME-transposed-scale (one Linear's
weight_scale stored transposed), with dcomp's eval / generate results of GOOD_DIR copied under the
new names and rows appended to WORK_DIR/negative.tsv.
"""
import json
import os
import shutil
import sys

from safetensors.torch import load_file, save_file


def copy_results(work, name, broken):
    for suffix in (".eval.json", ".generate.json"):
        shutil.copy(os.path.join(work, name + suffix), os.path.join(work, broken + suffix))


def main():
    good, work, name, family, original = sys.argv[1:6]
    rows = []

    broken = f"{name}-wrong-group-size"
    folder = os.path.join(work, broken)
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(good, folder)
    config = json.load(open(os.path.join(folder, "config.json")))
    for group in config["quantization_config"]["config_groups"].values():
        group["weights"]["group_size"] *= 2
    json.dump(config, open(os.path.join(folder, "config.json"), "w"), indent=2)
    copy_results(work, name, broken)
    rows.append(broken)

    broken = f"{name}-transposed-scale"
    folder = os.path.join(work, broken)
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(good, folder)
    index = json.load(open(os.path.join(folder, "model.safetensors.index.json")))["weight_map"]
    key = "model.layers.0.self_attn.q_proj.weight_scale"
    file = os.path.join(folder, index[key])
    tensors = load_file(file)
    tensors[key] = tensors[key].t().contiguous()
    save_file(tensors, file, metadata={"format": "pt"})
    copy_results(work, name, broken)
    rows.append(broken)

    with open(os.path.join(work, "negative.tsv"), "a") as f:
        for row in rows:
            f.write(f"{family}\t{row}\tbf16-kernel\tbfloat16\t{os.path.join(work, row)}\t{original}\n")


if __name__ == "__main__":
    main()
