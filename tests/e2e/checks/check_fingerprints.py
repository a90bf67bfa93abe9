"""Checks the shape-free fingerprints of one report (report.json and report.h5).

usage: check_fingerprints.py DIR --a MODEL_A --b MODEL_B [--beats-every-shift | --no-signal]
                             [--same-as DIR2]
Every tensor of a layer (routed experts aside) that both models have under one key with other
shapes has a fingerprint; such a tensor is unpaired, or paired only through the hidden selection
map (a pruned width: pairing "hidden selection", shapes differing); its moments and leading
singular values (exact for these small matrices) must agree with numpy's, computed here from the
safetensors files; report.h5 must hold what report.json holds; and the shifted-layer statistic must
be what the figures give.
--beats-every-shift: the same-depth statistic exceeds every shifted value (p at its minimum), z > 3;
--no-signal: the family's own p is above the verdict's alpha and |z| < 4;
The "fingerprints" family is descriptive (moments and spectra do not change under the symmetry):
never significant and never carrying the verdict; its p is the harmonic mean of its tests.
--same-as: /fingerprints bit for bit as in DIR2's report (another rank count).
"""
import argparse

import numpy as np

from reportlib import (Checker, bitwise_equal_arrays, datasets, descriptive_family, load_json, open_h5, read_model,
                       text)


def detrended(series, t):
    """numpy's version of reduce/fingerprint_figures.cpp's detrending (None when nothing is left)."""
    u = 2 * (t - t.min()) / (t.max() - t.min()) - 1
    design = np.stack([np.ones_like(u), u, u * u], axis=1)
    fit, *_ = np.linalg.lstsq(design, series, rcond=None)
    residual = series - design @ fit
    sd = np.sqrt(np.mean(residual ** 2))
    if not sd > 1e-12 * max(1.0, np.max(np.abs(series))):
        return None
    return residual / sd


def features(side, count):
    sd = side["sd"]
    return [np.log(sd), side["mean"] / sd] + [np.log(s) for s in side["spectrum"][:count]]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("dir")
    parser.add_argument("--a", required=True)
    parser.add_argument("--b", required=True)
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--beats-every-shift", action="store_true")
    group.add_argument("--no-signal", action="store_true")
    parser.add_argument("--same-as")
    args = parser.parse_args()
    c = Checker(f"fingerprints {args.dir}")
    report = load_json(args.dir)
    figures = report["fingerprints"]
    pairs, test = figures["pairs"], figures["test"]
    c.check(pairs, "no tensor was fingerprinted")
    models = {"a": read_model(args.a), "b": read_model(args.b)}
    unpaired = {(u["side"], u["name"]) for u in report["unpaired"]}
    paired = {(side, t[side]): t for t in report["tensors"] for side in ("a", "b")}
    for p in pairs:
        for side in ("a", "b"):
            name = p[f"name_{side}"]
            t = paired.get((side, name))
            c.check((side, name) in unpaired or (t is not None and "hidden selection" in t["pairing"]
                                                 and t["shape"] != t["shape_b"]),
                    f"{name} is fingerprinted but was paired other than through the hidden selection map")
            _, values = models[side][name]
            shape = p[f"shape_{side}"]
            w = values.reshape(shape)
            f = p[side]
            c.check(abs(f["mean"] - w.mean()) <= 1e-12 + 1e-9 * abs(w.mean()), f"{name}: mean {f['mean']} vs {w.mean()}")
            c.check(abs(f["sd"] - w.std()) <= 1e-9 * w.std(), f"{name}: sd {f['sd']} vs {w.std()}")
            if len(shape) == 2:
                s = np.linalg.svd(w, compute_uv=False)
                expected = s[: len(f["spectrum"])] / np.sqrt(np.sum(w * w))
                c.check(len(f["spectrum"]) == min(8, min(shape)), f"{name}: {len(f['spectrum'])} singular values")
                c.check(np.allclose(f["spectrum"], expected, rtol=1e-9, atol=0),
                        f"{name}: spectrum {f['spectrum'][:3]} vs numpy {expected[:3]}")
    with open_h5(args.dir) as h5:
        g = h5["/fingerprints"]
        c.equal([text(r) for r in g["role"][()]], [p["role"] for p in pairs], "/fingerprints/role")
        for side in ("a", "b"):
            c.check(np.array_equal(g[f"sd_{side}"][()], [p[side]["sd"] for p in pairs]), f"/fingerprints/sd_{side}")
            spectra = g[f"spectrum_{side}"][()]
            for i, p in enumerate(pairs):
                k = len(p[side]["spectrum"])
                c.check(np.array_equal(spectra[i, :k], p[side]["spectrum"]) and np.all(np.isnan(spectra[i, k:])),
                        f"/fingerprints/spectrum_{side} row {i}")
        c.equal(int(g.attrs["test_available"]), int(test["available"]), "/fingerprints test_available")
        if args.same_as:
            with open_h5(args.same_as) as other:
                h = other["/fingerprints"]
                for name in datasets(g):
                    c.check(bitwise_equal_arrays(g[name][()], h[name][()]), f"/fingerprints/{name} differs from {args.same_as}")
                for name in ("statistic", "z", "p_value"):
                    c.check(g.attrs[name] == h.attrs[name], f"/fingerprints {name} differs from {args.same_as}")
    c.check(test["available"], f"no fingerprint test: {test['reason']}")
    if not test["available"]:
        c.finish()
        return
    # The statistic recomputed from the reported fingerprints.
    layers = np.array(test["layers"], dtype=float)
    series = []
    for role in test["roles"]:
        rows = sorted((p for p in pairs if p["role"] == role), key=lambda p: p["layer"])
        c.equal([p["layer"] for p in rows], test["layers"], f"{role}: layers")
        count = min(min(len(p["a"]["spectrum"]), len(p["b"]["spectrum"])) for p in rows)
        fa = np.array([features(p["a"], count) for p in rows])
        fb = np.array([features(p["b"], count) for p in rows])
        for j in range(fa.shape[1]):
            ra, rb = detrended(fa[:, j], layers), detrended(fb[:, j], layers)
            if ra is not None and rb is not None:
                series.append((ra, rb))
    c.equal(len(series), test["series"], "series")
    n = len(layers)
    shifted = [np.mean([np.mean(a * np.roll(b, -s)) for a, b in series]) for s in range(n)]
    c.check(abs(shifted[0] - test["statistic"]) < 1e-9, f"statistic {test['statistic']} vs numpy {shifted[0]}")
    c.check(np.allclose(shifted[1:], test["null"], rtol=0, atol=1e-9), "shifted-layer null differs from numpy's")
    family = descriptive_family(c, report, "fingerprints")
    if args.beats_every_shift:
        c.check(test["statistic"] > max(test["null"]), f"statistic {test['statistic']} does not beat {max(test['null'])}")
        c.check(test["p_value"] <= 1 / n, f"p {test['p_value']} above 1/{n}")
        c.check(test["z"] > 3, f"z {test['z']}")
    if args.no_signal:
        if family is not None:
            c.check(family["p"] > report["verdict"]["alpha"], f"fingerprints p {family['p']} <= alpha")
        c.check(abs(test["z"]) < 4, f"unrelated z {test['z']}")
    c.finish()


if __name__ == "__main__":
    main()
