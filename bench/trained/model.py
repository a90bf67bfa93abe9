"""A Llama-style decoder in plain torch whose state_dict is exactly what Hugging Face's
LlamaForCausalLM saves (names, shapes, [out, in] linear weights, no biases, untied lm_head).

Part of the calibration bench in bench/trained/ (never a dependency of the C++ product).
Needs Debian's torch: apt-get install --no-install-recommends python3-torch (torch 1.13 there:
no scaled_dot_product_attention, so attention is written out).

Why not transformers: not installable here; and a bench should not depend on what a library
version does to names. The pieces follow HF's modeling_llama:
  RMSNorm in float32: x * rsqrt(mean(x^2) + eps) * weight
  rotary embedding, rope_theta 10000, HF's rotate_half pairing (dim i with i + head_dim/2)
  grouped-query attention (num_key_value_heads < num_attention_heads), causal
  SwiGLU MLP: down(silu(gate(x)) * up(x))
Init: normal(0, 0.02) for every linear and the embedding, norms = 1 (HF's _init_weights).
"""
import math
from dataclasses import asdict, dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class ModelConfig:
    vocab_size: int = 32000
    hidden_size: int = 128
    intermediate_size: int = 384
    num_hidden_layers: int = 4
    num_attention_heads: int = 4
    num_key_value_heads: int = 2
    head_dim: int = 32
    rms_norm_eps: float = 1e-5
    rope_theta: float = 10000.0
    max_position_embeddings: int = 128

    def as_dict(self):
        return asdict(self)

    @classmethod
    def from_hf(cls, cfg):
        """From a config.json dict (ignores keys the bench does not use)."""
        names = cls.__dataclass_fields__.keys()
        return cls(**{k: cfg[k] for k in names if k in cfg})


class RMSNorm(nn.Module):
    def __init__(self, n, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(n))
        self.eps = eps

    def forward(self, x):
        dt = x.dtype
        x = x.float()
        x = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * x.to(dt)


def rotate_half(x):
    """HF convention: the first half of a head's dims pairs with the second half."""
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


class Rotary(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d = cfg.head_dim
        inv_freq = 1.0 / (cfg.rope_theta ** (torch.arange(0, d, 2).float() / d))
        t = torch.arange(cfg.max_position_embeddings).float()
        freqs = torch.outer(t, inv_freq)
        emb = torch.cat((freqs, freqs), dim=-1)
        self.register_buffer("cos", emb.cos(), persistent=False)
        self.register_buffer("sin", emb.sin(), persistent=False)

    def forward(self, q, k):
        T = q.shape[-2]
        cos, sin = self.cos[:T], self.sin[:T]
        return q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin


class Attention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.h, self.kv, self.d = cfg.num_attention_heads, cfg.num_key_value_heads, cfg.head_dim
        H = cfg.hidden_size
        self.q_proj = nn.Linear(H, self.h * self.d, bias=False)
        self.k_proj = nn.Linear(H, self.kv * self.d, bias=False)
        self.v_proj = nn.Linear(H, self.kv * self.d, bias=False)
        self.o_proj = nn.Linear(self.h * self.d, H, bias=False)

    def forward(self, x, rotary, mask):
        B, T, _ = x.shape
        q = self.q_proj(x).view(B, T, self.h, self.d).transpose(1, 2)
        k = self.k_proj(x).view(B, T, self.kv, self.d).transpose(1, 2)
        v = self.v_proj(x).view(B, T, self.kv, self.d).transpose(1, 2)
        q, k = rotary(q, k)
        # HF repeat_kv: query head i uses kv head i // rep. Instead of repeating k and v, the
        # rep query heads of a group are stacked along time and meet their kv head in one
        # contiguous bmm (the same numbers; several times faster with CPU BLAS).
        rep = self.h // self.kv
        qg = q.reshape(B * self.kv, rep * T, self.d)
        kg = k.reshape(B * self.kv, T, self.d)
        vg = v.reshape(B * self.kv, T, self.d)
        att = torch.bmm(qg, kg.transpose(1, 2)).view(B * self.kv, rep, T, T) / math.sqrt(self.d)
        att = att.masked_fill(mask[:T, :T], float("-inf")).softmax(-1)
        y = torch.bmm(att.view(B * self.kv, rep * T, T), vg).view(B, self.h, T, self.d)
        return self.o_proj(y.transpose(1, 2).reshape(B, T, self.h * self.d))


class MLP(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        H, I = cfg.hidden_size, cfg.intermediate_size
        self.gate_proj = nn.Linear(H, I, bias=False)
        self.up_proj = nn.Linear(H, I, bias=False)
        self.down_proj = nn.Linear(I, H, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class DecoderLayer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.input_layernorm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)
        self.self_attn = Attention(cfg)
        self.post_attention_layernorm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)
        self.mlp = MLP(cfg)

    def forward(self, x, rotary, mask):
        x = x + self.self_attn(self.input_layernorm(x), rotary, mask)
        return x + self.mlp(self.post_attention_layernorm(x))


class LlamaModel(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.embed_tokens = nn.Embedding(cfg.vocab_size, cfg.hidden_size)
        self.layers = nn.ModuleList(DecoderLayer(cfg) for _ in range(cfg.num_hidden_layers))
        self.norm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)


class LlamaForCausalLM(nn.Module):
    """state_dict keys: model.embed_tokens.weight, model.layers.L.…, model.norm.weight,
    lm_head.weight — HF's names."""

    def __init__(self, cfg):
        super().__init__()
        if cfg.num_attention_heads % cfg.num_key_value_heads or cfg.head_dim % 2:
            raise ValueError("heads must be a multiple of kv heads, head_dim even")
        self.cfg = cfg
        self.model = LlamaModel(cfg)
        self.lm_head = nn.Linear(cfg.hidden_size, cfg.vocab_size, bias=False)
        self.rotary = Rotary(cfg)
        n = cfg.max_position_embeddings
        self.register_buffer("mask", torch.triu(torch.ones(n, n, dtype=torch.bool), 1),
                             persistent=False)
        self.reset_parameters()

    def reset_parameters(self):
        """HF's _init_weights: normal(0, 0.02) for linear and embedding weights, norms = 1.
        Call after torch.manual_seed(seed) so the seed alone decides the model."""
        for m in self.modules():
            if isinstance(m, (nn.Linear, nn.Embedding)):
                nn.init.normal_(m.weight, mean=0.0, std=0.02)
            elif isinstance(m, RMSNorm):
                nn.init.ones_(m.weight)

    def forward(self, ids):
        x = self.model.embed_tokens(ids)
        for layer in self.model.layers:
            x = layer(x, self.rotary, self.mask)
        return self.lm_head(self.model.norm(x))

    def loss(self, ids):
        """Next-token cross entropy of a [B, T+1] batch."""
        logits = self(ids[:, :-1])
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1))

    def numpy_state(self):
        """{HF name: float32 ndarray}, in a stable order (the order HF saves: by module)."""
        return {k: v.detach().float().cpu().numpy() for k, v in self.state_dict().items()}

    def load_numpy_state(self, tensors):
        """Load {HF name: ndarray}; refuses missing or unexpected names and wrong shapes."""
        own = self.state_dict()
        if set(own) != set(tensors):
            raise ValueError(f"tensor names differ: missing {sorted(set(own) - set(tensors))[:5]}, "
                             f"unexpected {sorted(set(tensors) - set(own))[:5]}")
        self.load_state_dict({k: torch.from_numpy(tensors[k]).float() for k in own}, strict=True)


def check_hf_layout(model):
    """Assert the state_dict has exactly HF LlamaForCausalLM's names and shapes."""
    c = model.cfg
    H, I, V, d = c.hidden_size, c.intermediate_size, c.vocab_size, c.head_dim
    want = {"model.embed_tokens.weight": (V, H), "model.norm.weight": (H,), "lm_head.weight": (V, H)}
    for L in range(c.num_hidden_layers):
        p = f"model.layers.{L}."
        want.update({
            p + "input_layernorm.weight": (H,), p + "post_attention_layernorm.weight": (H,),
            p + "self_attn.q_proj.weight": (c.num_attention_heads * d, H),
            p + "self_attn.k_proj.weight": (c.num_key_value_heads * d, H),
            p + "self_attn.v_proj.weight": (c.num_key_value_heads * d, H),
            p + "self_attn.o_proj.weight": (H, c.num_attention_heads * d),
            p + "mlp.gate_proj.weight": (I, H), p + "mlp.up_proj.weight": (I, H),
            p + "mlp.down_proj.weight": (H, I)})
    got = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    assert got == want, (set(got.items()) ^ set(want.items()))
