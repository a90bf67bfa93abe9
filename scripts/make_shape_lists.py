#!/usr/bin/env python3
"""Writes configs/shapes/*.json: the shape lists `lineage plan` reads, from the config numbers.

Python 3 standard library only. Run from anywhere: python3 scripts/make_shape_lists.py [OUT_DIR]
Tensor names follow /work/shared/DESIGN.md section 4 ("Reference architectures") and the rule files
configs/architectures/glm4_moe.yaml and solar_open.yaml. Every tensor is BF16 (both checkpoints ship
BF16 shards) except each router's e_score_correction_bias, which Hugging Face DeepSeek-style MoE
checkpoints store in F32.
"""
import json
import os
import sys

GLM_45_AIR = {
    "model_type": "glm4_moe",
    "hidden_size": 4096,
    "num_hidden_layers": 46,
    "num_nextn_predict_layers": 1,
    "num_attention_heads": 96,
    "num_key_value_heads": 8,
    "head_dim": 128,
    "intermediate_size": 10944,
    "moe_intermediate_size": 1408,
    "n_routed_experts": 128,
    "n_shared_experts": 1,
    "num_experts_per_tok": 8,
    "first_k_dense_replace": 1,
    "vocab_size": 151552,
    "attention_bias": True,
    "use_qk_norm": False,
    "tie_word_embeddings": False,
}
GLM_SOURCE = (
    "GLM-4.5-Air public config.json numbers (DESIGN.md section 4): glm4_moe, hidden 4096, 46 layers + 1 MTP "
    "layer (index 46), 96 heads / 8 KV heads / head_dim 128, q/k/v biases (attention_bias), no q/k norms, "
    "128 routed + 1 shared experts of 1408, dense intermediate 10944 in the first layer, vocab 151552, "
    "untied lm_head. Assumed: the MTP layer is a full MoE decoder layer plus enorm, hnorm, eh_proj "
    "[4096, 8192] and shared_head.norm (no MTP embed_tokens or shared_head.head: they are tied to the "
    "main ones); e_score_correction_bias in F32, everything else BF16. Written by scripts/make_shape_lists.py."
)

SOLAR_OPEN_100B = {
    "model_type": "solar_open",
    "hidden_size": 4096,
    "num_hidden_layers": 48,
    "num_attention_heads": 64,
    "num_key_value_heads": 8,
    "head_dim": 128,
    "intermediate_size": 10240,
    "moe_intermediate_size": 1280,
    "n_routed_experts": 128,
    "n_shared_experts": 1,
    "num_experts_per_tok": 8,
    "first_k_dense_replace": 0,
    "vocab_size": 196608,
    "attention_bias": False,
    "use_qk_norm": False,
    "tie_word_embeddings": False,
}
SOLAR_SOURCE = (
    "Solar-Open-100B numbers from DESIGN.md section 4: solar_open, hidden 4096, 48 layers, 64 heads / 8 KV "
    "heads / head_dim 128, 128 routed + 1 shared experts of 1280, every layer MoE (first_k_dense_replace 0; "
    "dense intermediate 10240 unused), vocab 196608, no MTP block. Assumed (not stated in anything read): "
    "no attention biases (Llama attention, attention_bias false), no q/k norms, untied lm_head, "
    "e_score_correction_bias in F32, everything else BF16. Written by scripts/make_shape_lists.py."
)


def tensor(name, shape, dtype="BF16"):
    return {"name": name, "dtype": dtype, "shape": list(shape)}


def decoder_layer(c, layer, moe):
    p = f"model.layers.{layer}."
    h, d = c["hidden_size"], c["head_dim"]
    q, kv = c["num_attention_heads"] * d, c["num_key_value_heads"] * d
    out = [
        tensor(p + "input_layernorm.weight", [h]),
        tensor(p + "post_attention_layernorm.weight", [h]),
        tensor(p + "self_attn.q_proj.weight", [q, h]),
        tensor(p + "self_attn.k_proj.weight", [kv, h]),
        tensor(p + "self_attn.v_proj.weight", [kv, h]),
        tensor(p + "self_attn.o_proj.weight", [h, q]),
    ]
    if c["attention_bias"]:
        out += [tensor(p + "self_attn.q_proj.bias", [q]), tensor(p + "self_attn.k_proj.bias", [kv]),
                tensor(p + "self_attn.v_proj.bias", [kv])]
    if c["use_qk_norm"]:
        out += [tensor(p + "self_attn.q_norm.weight", [d]), tensor(p + "self_attn.k_norm.weight", [d])]
    if not moe:
        i = c["intermediate_size"]
        out += [tensor(p + "mlp.gate_proj.weight", [i, h]), tensor(p + "mlp.up_proj.weight", [i, h]),
                tensor(p + "mlp.down_proj.weight", [h, i])]
        return out
    e, i = c["n_routed_experts"], c["moe_intermediate_size"]
    shared = i * c["n_shared_experts"]
    out += [tensor(p + "mlp.gate.weight", [e, h]), tensor(p + "mlp.gate.e_score_correction_bias", [e], "F32")]
    for k in range(e):
        out += [tensor(p + f"mlp.experts.{k}.gate_proj.weight", [i, h]),
                tensor(p + f"mlp.experts.{k}.up_proj.weight", [i, h]),
                tensor(p + f"mlp.experts.{k}.down_proj.weight", [h, i])]
    out += [tensor(p + "mlp.shared_experts.gate_proj.weight", [shared, h]),
            tensor(p + "mlp.shared_experts.up_proj.weight", [shared, h]),
            tensor(p + "mlp.shared_experts.down_proj.weight", [h, shared])]
    return out


def shape_list(c, source):
    h, v = c["hidden_size"], c["vocab_size"]
    tensors = [tensor("model.embed_tokens.weight", [v, h]), tensor("model.norm.weight", [h])]
    if not c["tie_word_embeddings"]:
        tensors.append(tensor("lm_head.weight", [v, h]))
    layers = c["num_hidden_layers"]
    for layer in range(layers):
        tensors += decoder_layer(c, layer, layer >= c["first_k_dense_replace"])
    for layer in range(layers, layers + c.get("num_nextn_predict_layers", 0)):
        p = f"model.layers.{layer}."
        tensors += decoder_layer(c, layer, True)
        tensors += [tensor(p + "enorm.weight", [h]), tensor(p + "hnorm.weight", [h]),
                    tensor(p + "eh_proj.weight", [h, 2 * h]), tensor(p + "shared_head.norm.weight", [h])]
    return {"model_type": c["model_type"], "source": source, "config": c, "tensors": tensors}


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "configs", "shapes")
    os.makedirs(out_dir, exist_ok=True)
    for name, config, source in (("glm-4.5-air.json", GLM_45_AIR, GLM_SOURCE),
                                 ("solar-open-100b.json", SOLAR_OPEN_100B, SOLAR_SOURCE)):
        document = shape_list(config, source)
        path = os.path.join(out_dir, name)
        with open(path + ".tmp", "w") as f:
            # One tensor per line: small diffs when a number changes.
            f.write("{\n")
            for key in ("model_type", "source", "config"):
                f.write(f"  {json.dumps(key)}: {json.dumps(document[key], sort_keys=True)},\n")
            f.write('  "tensors": [\n')
            f.write(",\n".join("    " + json.dumps(t) for t in document["tensors"]))
            f.write("\n  ]\n}\n")
        os.replace(path + ".tmp", path)
        count = sum(1 for _ in document["tensors"])
        params = 0
        for t in document["tensors"]:
            n = 1
            for x in t["shape"]:
                n *= x
            params += n
        print(f"{path}: {count} tensors, {params / 1e9:.2f} B parameters")


if __name__ == "__main__":
    main()
