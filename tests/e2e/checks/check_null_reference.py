"""Recomputes the symmetry nulls of report.h5 from the safetensors files, independently of lineage:
the same draws (lineage's random streams ported to Python: splitmix64, FNV-1a, xoshiro256++,
Lemire's bounded draw, Fisher–Yates; shard/symmetry_draw's plain, cyclic, heads and within-head groups),
T_π = Σᵢ⟨Aᵢ, B_π(i)⟩ and D_π = Σᵢ cos(Âᵢ, B̂_π(i)) over the permuted axis's slices in numpy float64,
the tensors' p-values, and each unit's joint statistic and p from the stored samples.

usage: check_null_reference.py DIR MODEL_A MODEL_B [DRAWS]
The first DRAWS draws of every tensor (default 200) are recomputed; tensors read through a
recovered hidden or head order are skipped (their B is not the file's).

lineage sums products in single-precision lanes (≈ 1e-6 of Σ|aᵢⱼ bⱼ|), so samples are compared with
an absolute tolerance of 1e-5 on cosine, Pearson and the mean slice cosine.
"""
import math
import sys

import numpy as np

from reportlib import Checker, column, load_json, open_h5, read_model

MASK = (1 << 64) - 1


def splitmix64(state):
    """(new state, output) of one splitmix64 step."""
    state = (state + 0x9E3779B97F4A7C15) & MASK
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return state, z ^ (z >> 31)


def fnv1a_64(text):
    value = 0xCBF29CE484222325
    for byte in text.encode("utf-8"):
        value = ((value ^ byte) * 0x100000001B3) & MASK
    return value


def rotl(x, k):
    return ((x << k) | (x >> (64 - k))) & MASK


class RandomStream:
    """core/random_stream: keyed by (seed, purpose, name); xoshiro256++."""

    def __init__(self, seed, purpose, name):
        _, mixed = splitmix64(seed)
        state = mixed ^ fnv1a_64(purpose)
        state, mixed = splitmix64(state)
        state = mixed ^ fnv1a_64(name)
        self.s = []
        for _ in range(4):
            state, word = splitmix64(state)
            self.s.append(word)

    def next_u64(self):
        s = self.s
        result = (rotl((s[0] + s[3]) & MASK, 23) + s[0]) & MASK
        t = (s[1] << 17) & MASK
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = rotl(s[3], 45)
        return result

    def uniform(self):
        return (self.next_u64() >> 11) * 2.0 ** -53

    def below(self, bound):
        product = self.next_u64() * bound
        low = product & MASK
        if low < bound:
            threshold = ((1 << 64) - bound) % bound
            while low < threshold:
                product = self.next_u64() * bound
                low = product & MASK
        return product >> 64

    def permutation(self, n):
        out = list(range(n))
        for i in range(n, 1, -1):
            j = self.below(i)
            out[i - 1], out[j] = out[j], out[i - 1]
        return out


class Draws:
    """shard/symmetry_draw: the draws of one unit's group, the same sequence for every member."""

    def __init__(self, spec, seed):
        self.spec = spec
        self.stream = RandomStream(seed, "symmetry null", "draws")
        if spec["form"] == "cyclic":
            # Shifts of one random order σ, in a random order of 1 … n − 1: draw k takes the unit at
            # position j of σ to position j + shifts[k].
            self.order = RandomStream(seed, "symmetry null", "cyclic order").permutation(spec["units"])
            self.position = [0] * len(self.order)
            for j, unit in enumerate(self.order):
                self.position[unit] = j
            shifts = RandomStream(seed, "symmetry null", "cyclic shifts").permutation(spec["units"] - 1)
            self.shifts = [s + 1 for s in shifts]
            self.drawn = 0

    def next(self, role, block_size, units):
        spec, stream = self.spec, self.stream
        if spec["form"] == "plain":
            return stream.permutation(spec["units"])
        if spec["form"] == "cyclic":
            n, shift = len(self.order), self.shifts[self.drawn % len(self.shifts)]
            self.drawn += 1
            return [self.order[(self.position[i] + shift) % n] for i in range(n)]
        kv, g, within = spec["kv_heads"], spec["group"], spec["within"]
        sigma, taus = list(range(kv)), [list(range(g))] * kv
        if spec["form"] == "heads":
            sigma = stream.permutation(kv)
            taus = [stream.permutation(g) for _ in range(kv)]
        rhos = [stream.permutation(within) for _ in range(kv)]
        blocks = units // block_size
        out = []
        for b in range(blocks):
            source, component = b, (b // g if role == "query" else b)
            if spec["form"] == "heads":
                j = b // g if role == "query" else b
                component = sigma[j]
                source = component * g + taus[j][b % g] if role == "query" else component
            inside = rhos[component] if within > 0 else None
            out.extend(source * block_size + (inside[d] if inside else d) for d in range(block_size))
        return out


def norm_read_by(name):
    """The generator's norm weight that the linear layer `name` reads (Llama names)."""
    for reader, norm in ((".self_attn.q_proj.weight", ".input_layernorm.weight"),
                         (".self_attn.k_proj.weight", ".input_layernorm.weight"),
                         (".self_attn.v_proj.weight", ".input_layernorm.weight"),
                         (".mlp.gate_proj.weight", ".post_attention_layernorm.weight"),
                         (".mlp.up_proj.weight", ".post_attention_layernorm.weight")):
        if name.endswith(reader):
            return name[: -len(reader)] + norm
    return "model.norm.weight" if name == "lm_head.weight" else None


def slices(tensor, values):
    """The units of the permuted axis as rows of a matrix: rows, or column blocks down every row."""
    shape, where = tensor["shape"], tensor["null"]["unit"].split(" ")[0]
    if where == "elements":
        return values.reshape(-1, 1)
    m = values.reshape(shape[0], -1)
    if where == "rows":
        return m
    inner = int(np.prod(shape[2:])) if len(shape) > 2 else 1
    return m.reshape(shape[0], shape[1], inner).transpose(1, 0, 2).reshape(shape[1], -1)


def layout(tensor, units, heads, kv):
    """The member's place in a heads or values group: (role, block size)."""
    kind = tensor["null"]["unit"].split("(")[1].rstrip(")")
    if kind in ("query", "output"):
        return "query", units // heads
    if kind in ("key", "value"):
        return "key_value", units // kv
    return "plain", 1


def member_statistics(tensor, a, b, norms, draws, count):
    """(observed T, observed D, T and D of the first `count` draws) from numpy float64."""
    sa, sb = slices(tensor, a), slices(tensor, b)
    products = sa @ sb.T
    fa, fb = sa, sb
    if tensor["null"]["unit"].startswith("rows") and norms is not None:
        fa, fb = sa * norms[0], sb * norms[1]
    na, nb = np.linalg.norm(fa, axis=1), np.linalg.norm(fb, axis=1)
    scale = np.outer(na, nb)
    cosines = np.divide(fa @ fb.T, scale, out=np.zeros_like(scale), where=scale > 0)
    index = np.arange(sa.shape[0])
    t, d = [], []
    for _ in range(count):
        p = np.array(draws())
        t.append(float(products[index, p].sum()))
        d.append(float(cosines[index, p].sum()))
    return float(products[index, index].sum()), float(cosines[index, index].sum()), np.array(t), np.array(d)


def check_unit_p(c, unit, seed, statistics):
    """S = Σ z over the members (each standardised over its K + 1 values), randomized p with the
    unit's U, at least 1 / (1 + K), from the members' stored test statistics (exact doubles, so ties
    stay ties)."""
    k = unit["permutations"]
    joint = np.zeros(k + 1)
    for observed, samples in statistics:
        values = np.append(samples, observed)
        sd = float(np.std(values, ddof=1))
        joint += (values - values.mean()) / sd if sd > 0 else 0.0
    observed, null = joint[-1], joint[:-1]
    u = 1 - RandomStream(seed, "symmetry unit", "randomizer").uniform()
    close = np.abs(null - observed) <= 1e-9 * max(1.0, abs(observed))
    if np.any(close & (null != observed)):
        return False  # a draw within rounding of the observed value: counts are not exact
    above, equal = int(np.count_nonzero(null > observed)), int(np.count_nonzero(null == observed))
    want = max((above + u * (1 + equal)) / (1 + k), 1 / (1 + k))
    c.check(abs(unit["p"] - want) <= 1e-12, f"unit {unit['label']}: p {unit['p']!r}, numpy says {want!r}")
    return True


def main(directory, model_a, model_b, draw_count):
    c = Checker(f"null reference {directory}")
    report = load_json(directory)
    config = report["manifest"]["config"]
    job_seed = splitmix64(config["seed"])[1]
    model_config = report["models"]["a"]["config"]
    heads = model_config.get("num_attention_heads", 1)
    kv = model_config.get("num_key_value_heads", heads)
    tensors_a, tensors_b = read_model(model_a), read_model(model_b)
    checked = {"tensors": 0, "units": 0}
    with open_h5(directory) as h5:
        offsets = column(h5["nulls"], "offsets")
        pearson_stored = h5["nulls"]["pearson"][()]
        direction_stored = h5["nulls"]["direction"][()]
        test_stored = h5["nulls"]["test"][()]
        test_observed = column(h5["tensors"], "test_observed")
        for unit in report["units"]:
            if not unit["available"] or unit["kind"] == "expert matching":
                continue
            seed = job_seed ^ fnv1a_64("symmetry unit / " + unit["label"])
            members = [(i, t) for i, t in enumerate(report["tensors"]) if t["null"].get("test_unit") == unit["label"]]
            usable = all(t["null"]["available"] and "matching" not in t["pairing"] for _, t in members)
            statistics = []
            for i, t in members:
                if not usable:
                    break
                name, null = t["a"], t["null"]
                a, b = tensors_a[t["a"]][1].astype(np.float64), tensors_b[t["b"]][1].astype(np.float64)
                norm = norm_read_by(name)
                norms = (tensors_a[norm][1], tensors_b[norm][1]) if norm in tensors_a and norm in tensors_b else None
                n = slices(t, a).shape[0]
                role, block = layout(t, n, heads, kv)
                draws = Draws(unit["group_spec"], seed)
                count = min(draw_count, null["permutations"])
                t_obs, d_obs, t_k, d_k = member_statistics(t, a, b, norms, lambda: draws.next(role, block, n), count)
                # Stored samples: T from Pearson (numpy's own moments), D as the mean slice cosine.
                mean_a, mean_b = a.mean(), b.mean()
                centred = math.sqrt(float((a - mean_a) @ (a - mean_a)) * float((b - mean_b) @ (b - mean_b)))
                stored_t = pearson_stored[offsets[i]: offsets[i + 1]] * centred + a.size * mean_a * mean_b
                worst = float(np.max(np.abs(stored_t[:count] - t_k))) / centred
                c.check(worst < 1e-5, f"{name}: null Pearson samples differ from numpy by up to {worst:.3g}")
                matrix = n > 1 and a.size > n
                if matrix:
                    stored_d = direction_stored[offsets[i]: offsets[i + 1]] * n
                    worst = float(np.max(np.abs(stored_d[:count] - d_k))) / n
                    c.check(worst < 1e-5, f"{name}: slice-direction samples differ from numpy by up to {worst:.3g}")
                    c.check(abs(null["directions"]["cosine"] - d_obs / n) < 1e-5, f"{name}: observed slice cosine")
                    c.check(abs(test_observed[i] - d_obs) < 1e-5 * n, f"{name}: test_observed is not D")
                else:
                    c.check(abs(test_observed[i] - t_obs) < 1e-5 * centred, f"{name}: test_observed is not T")
                statistics.append((test_observed[i], test_stored[offsets[i]: offsets[i + 1]]))
                checked["tensors"] += 1
            if usable and members and check_unit_p(c, unit, seed, statistics):
                checked["units"] += 1
    c.check(checked["tensors"] > 0, "no null was checked")
    c.check(checked["units"] > 0, "no unit p was checked")
    print(f"[null reference {directory}] recomputed {checked['tensors']} tensor nulls and {checked['units']} unit p-values")
    c.finish()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]) if len(sys.argv) > 4 else 200)
