"""Recomputes the permutation nulls of report.h5 from the safetensors files, independently of lineage:
the same permutations (lineage's random streams ported to Python: splitmix64, FNV-1a, xoshiro256++,
Lemire's bounded draw, Fisher–Yates), T_π = Σᵢ⟨aᵢ, b_π(i)⟩ in numpy float64, and from T the null
samples of cosine and Pearson, the z-score and the tensor's p-value.

usage: check_null_reference.py DIR MODEL_A MODEL_B [MAX_MATRIX_ROWS]
Matrices with more than MAX_MATRIX_ROWS rows (default 1024) are skipped to keep the test quick.

lineage sums a row's products in single-precision lanes (≈ 1e-6 of Σ|aᵢⱼ bⱼ|), so samples are
compared with an absolute tolerance of 1e-5 on cosine and Pearson, as check_reference.py does.
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


def key_text(tensor):
    layer = tensor["layer"]
    text = "global" if layer is None else f"layer {layer}"
    text += " / " + tensor["role"]
    if tensor["expert"] is not None:
        text += f" / expert {tensor['expert']}"
    return text


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


def job_seed(seed):
    return splitmix64(seed)[1]


def normal_upper_tail(z):
    return 0.5 * math.erfc(z / math.sqrt(2))


def main(directory, model_a, model_b, max_rows):
    c = Checker(f"null reference {directory}")
    report = load_json(directory)
    config = report["manifest"]["config"]
    seed = job_seed(config["seed"])
    tensors_a, tensors_b = read_model(model_a), read_model(model_b)
    checked = {"rows": 0, "elements": 0, "directions": 0}
    with open_h5(directory) as h5:
        offsets = column(h5["nulls"], "offsets")
        cosine_samples = h5["nulls"]["cosine"][()]
        pearson_samples = h5["nulls"]["pearson"][()]
        direction_samples = h5["nulls"]["direction"][()]
        for i, t in enumerate(report["tensors"]):
            null = t["null"]
            if not null["available"]:
                continue
            shape = t["shape"]
            matrix = len(shape) >= 2 and shape[0] >= 2
            a = tensors_a[t["a"]][1]
            b = tensors_b[t["b"]][1]
            rows = shape[0] if matrix else a.size
            if matrix and rows > max_rows:
                continue
            name = t["a"]
            k = null["permutations"]
            c.equal(k, config["permutations_matrix" if matrix else "permutations_vector"], f"{name}: K")
            stream = RandomStream(seed ^ fnv1a_64(key_text(t)), "permutation null", "rows")
            a2, b2 = a.reshape(rows, -1), b.reshape(rows, -1)
            observed = float(np.sum(a2 * b2))
            permutations = [stream.permutation(rows) for _ in range(k)]
            samples = np.array([float(np.sum(a2 * b2[p])) for p in permutations])
            randomizer = 1 - stream.uniform()

            # The samples as lineage stores them.
            n = a.size
            sum_aa, sum_bb = float(a @ a), float(b @ b)
            mean_a, mean_b = float(a.mean()), float(b.mean())
            m2_a, m2_b = float((a - mean_a) @ (a - mean_a)), float((b - mean_b) @ (b - mean_b))
            want_cosine = samples / math.sqrt(sum_aa * sum_bb)
            want_pearson = (samples - n * mean_a * mean_b) / math.sqrt(m2_a * m2_b)
            got_cosine = cosine_samples[offsets[i]: offsets[i + 1]]
            got_pearson = pearson_samples[offsets[i]: offsets[i + 1]]
            if not c.equal(len(got_cosine), k, f"{name}: samples in /nulls"):
                continue
            worst_cosine = float(np.max(np.abs(got_cosine - want_cosine)))
            worst_pearson = float(np.max(np.abs(got_pearson - want_pearson)))
            c.check(worst_cosine < 1e-5, f"{name}: null cosine samples differ from numpy by up to {worst_cosine:.3g}")
            c.check(worst_pearson < 1e-5,
                    f"{name}: null Pearson samples differ from numpy by up to {worst_pearson:.3g}")

            scale = float(np.sum(np.abs(a2) * np.abs(b2)))
            if null.get("test") == "row directions":
                # A matrix that reads a norm is tested by its rows' directions, folded with that
                # norm: D = Σᵢ cos(aᵢ ∘ g_A, b_π(i) ∘ g_B) under the same permutations as T.
                norm = norm_read_by(name)
                c.check(norm in tensors_a and norm in tensors_b, f"{name}: folded with {norm}, not in both models")
                if norm not in tensors_a or norm not in tensors_b:
                    continue
                fa = a2 * tensors_a[norm][1].astype(np.float64)
                fb = b2 * tensors_b[norm][1].astype(np.float64)
                fa /= np.linalg.norm(fa, axis=1, keepdims=True)
                fb /= np.linalg.norm(fb, axis=1, keepdims=True)
                observed = float(np.sum(fa * fb))
                samples = np.array([float(np.sum(fa * fb[p])) for p in permutations])
                got = direction_samples[offsets[i]: offsets[i + 1]]
                worst = float(np.max(np.abs(got - samples / rows)))
                c.check(worst < 1e-5, f"{name}: row-direction samples differ from numpy by up to {worst:.3g}")
                c.check(abs(null["directions"]["cosine"] - observed / rows) < 1e-5, f"{name}: row-direction cosine")
                scale = float(rows)
                checked["directions"] += 1

            # z and the p-values from numpy's statistic (T, or D). Counts are exact unless a sample
            # lies within rounding of the observed one (then skipped).
            sd = float(np.std(samples, ddof=1))
            z = (observed - float(samples.mean())) / sd
            c.check(abs(null["z"] - z) <= 1e-4 * max(1.0, abs(z)), f"{name}: z {null['z']!r}, numpy says {z!r}")
            if np.all(np.abs(samples - observed) > 1e-5 * scale):
                above = int(np.count_nonzero(samples > observed))
                c.equal(null["beyond_all"], above == 0, f"{name}: beyond_all")
                c.check(abs(null["p_permutation"] - (1 + above) / (1 + k)) < 1e-12,
                        f"{name}: p_permutation {null['p_permutation']!r}, numpy says {(1 + above) / (1 + k)!r}")
                if above > 0:
                    want = (above + randomizer) / (1 + k)
                    c.check(abs(t["p_value"] - want) <= 1e-12,
                            f"{name}: p_value {t['p_value']!r}, numpy says {want!r} (randomized, U = {randomizer!r})")
                else:
                    largest = (float(samples.max()) - float(samples.mean())) / sd
                    at_largest = normal_upper_tail(largest)
                    want = normal_upper_tail(z) / at_largest / (1 + k) if at_largest > 0 else randomizer / (1 + k)
                    c.check(t["p_value"] <= 1 / (1 + k), f"{name}: p_value {t['p_value']!r} beyond all samples")
                    if want > 1e-290 and t["p_value"] > 0:
                        c.check(abs(math.log(t["p_value"]) - math.log(want)) < 0.05 * max(1.0, z),
                                f"{name}: p_value {t['p_value']!r}, numpy says {want!r}")
            checked["rows" if matrix else "elements"] += 1
    c.check(checked["rows"] > 0, "no matrix null was checked")
    c.check(checked["elements"] > 0, "no vector null was checked")
    c.check(checked["directions"] > 0, "no row-direction test was checked")
    print(f"[null reference {directory}] recomputed {checked['rows']} matrix and {checked['elements']} vector nulls, "
          f"{checked['directions']} of them by row directions")
    c.finish()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]) if len(sys.argv) > 4 else 1024)
