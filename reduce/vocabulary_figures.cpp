#include "reduce/vocabulary_figures.hpp"

#include <algorithm>
#include <functional>
#include <string_view>
#include <unordered_map>

#include "shard/matching_vectors.hpp"
#include "tokenizer/byte_normalise.hpp"

namespace lineage {
namespace {

using merge_key = std::pair<std::string, std::string>;
using merge_view = std::pair<std::string_view, std::string_view>;

struct merge_hash {
  std::size_t operator()(const merge_view& m) const noexcept {
    const std::size_t left = std::hash<std::string_view>{}(m.first), right = std::hash<std::string_view>{}(m.second);
    return left ^ (right + 0x9e3779b97f4a7c15ULL + (left << 6) + (left >> 2));
  }
};

// A vocabulary seen through one key (the piece, or its bytes): per key the token of lowest id.
// The maps are keyed by views of the strings `kept` and `merges` own (both are filled before any
// view is taken of them, and never grow after).
struct keyed_vocabulary {
  std::vector<std::pair<std::string, const vocabulary_token*>> kept;  // by increasing id
  std::unordered_map<std::string_view, const vocabulary_token*> by_key;
  std::uint64_t folded = 0;
  std::vector<merge_key> merges;                                  // in rank order
  std::unordered_map<merge_view, std::int32_t, merge_hash> merge_rank;  // the first rank of each distinct merge
};

template <class KeyOf>
keyed_vocabulary keyed(const tokenizer_vocabulary& vocabulary, const KeyOf& key_of, std::vector<merge_key> merges) {
  keyed_vocabulary out;
  out.kept.reserve(vocabulary.tokens.size());
  out.by_key.reserve(vocabulary.tokens.size());
  for (const auto& token : vocabulary.tokens) {  // sorted by id: the first of a key is its lowest id
    std::string key = key_of(token);
    if (out.by_key.contains(key)) {
      ++out.folded;
      continue;
    }
    out.kept.emplace_back(std::move(key), &token);
    out.by_key.emplace(out.kept.back().first, &token);
  }
  out.merges = std::move(merges);
  out.merge_rank.reserve(out.merges.size());
  for (std::size_t rank = 0; rank < out.merges.size(); ++rank)
    out.merge_rank.emplace(merge_view{out.merges[rank].first, out.merges[rank].second}, static_cast<std::int32_t>(rank));
  return out;
}

void count_merges(const keyed_vocabulary& a, const keyed_vocabulary& b, overlap_figures& f) {
  f.merges_a = a.merge_rank.size();
  f.merges_b = b.merge_rank.size();
  std::vector<std::pair<std::int32_t, std::int32_t>> ranks;  // (rank in A, rank in B), by rank in A
  for (const auto& [merge, rank_a] : a.merge_rank)
    if (const auto in_b = b.merge_rank.find(merge); in_b != b.merge_rank.end()) ranks.emplace_back(rank_a, in_b->second);
  std::sort(ranks.begin(), ranks.end());
  f.merges_shared = ranks.size();
  std::vector<std::int32_t> x, y;
  for (const auto& [rank_a, rank_b] : ranks) {
    x.push_back(rank_a);
    y.push_back(rank_b);
  }
  f.merge_rank_spearman = rank_correlation(x, y);
}

token_example example_of(const vocabulary_token& token) { return {token.id, token.piece}; }

void list_only(const keyed_vocabulary& side, const keyed_vocabulary& other, std::size_t examples,
               std::vector<token_example>& out) {
  for (const auto& [key, token] : side.kept) {
    if (out.size() == examples) return;
    if (!other.by_key.contains(key)) out.push_back(example_of(*token));
  }
}

overlap_figures overlap(const keyed_vocabulary& a, const keyed_vocabulary& b, std::size_t examples) {
  overlap_figures f;
  f.size_a = a.kept.size();
  f.size_b = b.kept.size();
  f.folded_a = a.folded;
  f.folded_b = b.folded;
  for (const auto& [key, token_a] : a.kept) {
    f.added_a += token_a->added;
    f.special_a += token_a->special;
    const auto found = b.by_key.find(key);
    if (found == b.by_key.end()) continue;
    const vocabulary_token& token_b = *found->second;
    ++f.shared;
    f.same_id += token_a->id == token_b.id;
    f.added_shared += token_a->added && token_b.added;
    f.special_shared += token_a->special && token_b.special;
    if (f.shared_examples.size() < examples) f.shared_examples.push_back({example_of(*token_a), example_of(token_b)});
  }
  for (const auto& [key, token_b] : b.kept) {
    f.added_b += token_b->added;
    f.special_b += token_b->special;
  }
  const auto fraction = [](std::uint64_t part, std::uint64_t whole) {
    return whole == 0 ? NAN : static_cast<double>(part) / static_cast<double>(whole);
  };
  f.share_of_a = fraction(f.shared, f.size_a);
  f.share_of_b = fraction(f.shared, f.size_b);
  f.jaccard = fraction(f.shared, f.size_a + f.size_b - f.shared);
  list_only(a, b, examples, f.only_a);
  list_only(b, a, examples, f.only_b);
  count_merges(a, b, f);
  return f;
}

keyed_vocabulary raw_view(const tokenizer_vocabulary& v) {
  std::vector<merge_key> merges;
  merges.reserve(v.merges.size());
  for (const auto& rule : v.merges) merges.emplace_back(rule.left, rule.right);
  return keyed(v, [](const vocabulary_token& token) { return token.piece; }, std::move(merges));
}

keyed_vocabulary byte_view(const tokenizer_vocabulary& v) {
  return keyed(v, [&v](const vocabulary_token& token) { return token_bytes(v, token); }, merge_bytes(v));
}

std::vector<std::pair<std::uint32_t, std::uint32_t>> shared_ids(const keyed_vocabulary& view_a,
                                                                const keyed_vocabulary& view_b) {
  std::vector<std::pair<std::uint32_t, std::uint32_t>> pairs;
  for (const auto& [key, token_a] : view_a.kept)
    if (const auto found = view_b.by_key.find(key); found != view_b.by_key.end())
      pairs.emplace_back(token_a->id, found->second->id);
  return pairs;
}

// Everything the views are built from is equal (the file name aside): each view is built once.
bool same_content(const tokenizer_vocabulary& a, const tokenizer_vocabulary& b) {
  const auto same_token = [](const vocabulary_token& x, const vocabulary_token& y) {
    return x.id == y.id && x.piece == y.piece && x.in_model == y.in_model && x.added == y.added && x.special == y.special;
  };
  const auto same_merge = [](const merge_rule& x, const merge_rule& y) { return x.left == y.left && x.right == y.right; };
  return a.kind == b.kind && a.byte_level == b.byte_level && a.sentencepiece == b.sentencepiece &&
         a.continuing_subword_prefix == b.continuing_subword_prefix &&
         std::equal(a.tokens.begin(), a.tokens.end(), b.tokens.begin(), b.tokens.end(), same_token) &&
         std::equal(a.merges.begin(), a.merges.end(), b.merges.begin(), b.merges.end(), same_merge);
}

}  // namespace

vocabulary_comparison compare_vocabularies(const tokenizer_vocabulary& a, const tokenizer_vocabulary& b,
                                           std::size_t examples) {
  vocabulary_comparison out;
  const bool same = same_content(a, b);
  {
    const keyed_vocabulary raw_a = raw_view(a);
    out.raw = same ? overlap(raw_a, raw_a, examples) : overlap(raw_a, raw_view(b), examples);
  }
  const keyed_vocabulary bytes_a = byte_view(a);
  const keyed_vocabulary bytes_b = same ? keyed_vocabulary{} : byte_view(b);
  const keyed_vocabulary& other = same ? bytes_a : bytes_b;
  out.bytes = overlap(bytes_a, other, examples);
  out.shared_ids = shared_ids(bytes_a, other);
  return out;
}

std::vector<std::pair<std::uint32_t, std::uint32_t>> shared_token_ids(const tokenizer_vocabulary& a,
                                                                      const tokenizer_vocabulary& b) {
  return shared_ids(byte_view(a), byte_view(b));
}

}  // namespace lineage
