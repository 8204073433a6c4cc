#!/usr/bin/env python3
"""Prints bench_deepseek_fp8.sh's table from its run reports and projects it to DeepSeek-V3's
61 layers (first_k_dense_replace 3: 3 dense + 58 MoE) and 256 routed experts.
Each phase p of the measured MoE layer (E experts) is split by the share f_p of its work that
grows with the routed experts, computed from the layer's shapes:
  compress   2·out·in² per Linear (GPTQ's column updates) + 4/3·in³ per distinct input
             (Cholesky, inverse, Cholesky of the inverse)
  calibrate  Σ out·in (every calibration token through every expert)
  load, write   parameters;   reduce   Hessian-sum elements (in² per distinct input)
  propagate  0 (the layer output follows the router: top-k experts per token, whatever E)
  t_p(256) = t_p(E) · ((1 − f_p) + f_p · 256 / E);  T = 3 · T_dense + 58 · Σ_p t_p(256).
The measured MoE layer is the last, which propagates nothing: its propagate term is the dense
layer's scaled by the forward work of the tokens' routed path (attention, shared expert and
top-k experts, whatever E) over the dense layer's (attention and MLP).
Usage: deepseek_projection.py WORK CONFIG "RANKS..." "DIGESTS..." SAMPLES SEQ [OPENBLAS_CORETYPE]"""
import json
import sys

work, config_path, ranks_list, digests = sys.argv[1], sys.argv[2], sys.argv[3].split(), sys.argv[4].split()
samples, seq, coretype = sys.argv[5], sys.argv[6], (sys.argv[7] if len(sys.argv) > 7 else "")
PHASES = ["load", "calibrate", "reduce", "compress", "propagate", "write"]
RELEASE_EXPERTS, RELEASE_DENSE, RELEASE_MOE = 256, 3, 58
c = json.load(open(config_path))
h, n, E, I = c["hidden_size"], c["num_attention_heads"], c["n_routed_experts"], c["moe_intermediate_size"]
S = c["n_shared_experts"] * I
q, kv, nope, rope, v = c["q_lora_rank"], c["kv_lora_rank"], c["qk_nope_head_dim"], c["qk_rope_head_dim"], c["v_head_dim"]


def expert_shares(experts):
    """The share of each phase's work that belongs to the routed experts, with `experts` of them."""
    attention = [(q, h), (n * (nope + rope), q), (kv + rope, h), (n * (nope + v), kv), (h, n * v)]
    shared = [(S, h), (S, h), (h, S)]
    expert = [(I, h), (I, h), (h, I)]
    fixed_inputs = [h, q, kv, n * v, h, S]  # distinct Hessians: attention input, q_b, kv_b, o, MLP input, shared down
    solve = lambda linears: sum(2 * o * i * i for o, i in linears)
    forward = lambda linears: sum(o * i for o, i in linears)
    solve_fixed = solve(attention + shared) + sum(4 * i ** 3 / 3 for i in fixed_inputs)
    solve_experts = experts * (solve(expert) + 4 * I ** 3 / 3)
    forward_fixed, forward_experts = forward(attention + shared), experts * forward(expert)
    params_fixed, params_experts = forward_fixed, experts * (forward(expert) + h)  # + the router's row
    sums_fixed, sums_experts = sum(i * i for i in fixed_inputs), experts * I * I
    share = lambda fixed, grows: grows / (fixed + grows)
    routed_path = forward(attention + shared) + c["num_experts_per_tok"] * forward(expert)
    dense_path = forward(attention) + 3 * h * c["intermediate_size"]
    global PROPAGATE_MOE_OVER_DENSE
    PROPAGATE_MOE_OVER_DENSE = routed_path / dense_path
    return {"compress": share(solve_fixed, solve_experts), "calibrate": share(forward_fixed, forward_experts),
            "propagate": 0.0, "load": share(params_fixed, params_experts),
            "write": share(params_fixed, params_experts), "reduce": share(sums_fixed, sums_experts)}, \
        4 * (params_fixed + params_experts)


reports = {r: json.load(open(f"{work}/np{r}.json")) for r in ranks_list}
first = reports[ranks_list[0]]
det = first["determinism"]
print(f"synthetic DeepSeek-V3 in FP8 blocks of 128: hidden {h}, {n} heads, MLA q/kv lora {q}/{kv}, layer 0 dense "
      f"({c['intermediate_size']}), layer 1 {E} experts x {I} + {c['n_shared_experts']} shared, top "
      f"{c['num_experts_per_tok']}; GPTQ W4A16 g128; {samples} samples x {seq} tokens; 1 compute thread per rank")
print(f"BLAS: {det.get('blas_library')} core {det.get('blas_core')} ({det.get('blas_core_chosen')}); "
      f"OPENBLAS_CORETYPE={coretype or '(unset)'}; cpu {det.get('cpu')}")
print("\nseconds per layer by phase")
print("ranks layer      " + " ".join(f"{p:>9s}" for p in PHASES) + "     total   sent/rank MiB")
for r in ranks_list:
    P = int(r)
    for layer in reports[r]["layers"]:
        sec = layer["seconds"]
        owned = layer.get("owner_reduced_bytes", 0)
        shared_bytes = layer["reduced_bytes"] - owned
        sent = (2 * (P - 1) / P * shared_bytes + (P - 1) / P * owned) / 2 ** 20
        kind = "dense" if layer["layer"] < c["first_k_dense_replace"] else "MoE"
        print(f"{r:>5s} {layer['layer']:>2d} {kind:<6s} " + " ".join(f"{sec[p]:9.1f}" for p in PHASES) +
              f" {sum(sec.values()):9.1f} {sent:14,.0f}")
    print(f"{r:>5s} run total {reports[r]['total_seconds']:.1f} s; peak RSS per rank (MiB): " +
          ", ".join(f"{b / 2 ** 20:,.0f}" for b in reports[r]["peak_rss_bytes_per_rank"]))
same = len(set(digests)) == 1
print("checkpoints (safetensors bytes): " + ("identical" if same else "DIFFERENT " + " ".join(digests)) +
      f" on {', '.join(ranks_list)} rank(s)")

measured, _ = expert_shares(E)
_, release_weights = expert_shares(RELEASE_EXPERTS)
print(f"\nPROJECTED (not measured) to {RELEASE_DENSE} dense + {RELEASE_MOE} MoE layers of {RELEASE_EXPERTS} experts:")
print("  expert share f_p of the MoE layer's work at E=%d: " % E +
      ", ".join(f"{p} {measured[p]:.2f}" for p in PHASES))
for r in ranks_list:
    layers = {layer["layer"]: layer["seconds"] for layer in reports[r]["layers"]}
    dense = sum(layers[0].values())
    moe = {p: layers[1][p] * ((1 - measured[p]) + measured[p] * RELEASE_EXPERTS / E) for p in PHASES}
    if c["num_hidden_layers"] == 2:  # layer 1 is the last: the dense layer's propagation, scaled
        moe["propagate"] = layers[0]["propagate"] * PROPAGATE_MOE_OVER_DENSE
    total = RELEASE_DENSE * dense + RELEASE_MOE * sum(moe.values())
    print(f"  {r} rank(s): MoE layer {sum(layers[1].values()):.0f} s -> {sum(moe.values()):,.0f} s "
          f"(compress {moe['compress']:,.0f}, calibrate {moe['calibrate']:,.0f}, propagate {moe['propagate']:,.1f}); "
          f"61 layers {total / 3600:,.1f} h")
print(f"  memory: a {RELEASE_EXPERTS}-expert layer's weights are {release_weights / 2 ** 30:,.1f} GiB in fp32 "
      f"({RELEASE_EXPERTS} down-projection Hessian sums {RELEASE_EXPERTS * I * I * 8 / 2 ** 30:,.1f} GiB in fp64)")
