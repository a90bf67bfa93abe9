#include "reduce/vocabulary_figures.hpp"

#include <functional>
#include <map>
#include <unordered_map>

#include "shard/matching_vectors.hpp"
#include "tokenizer/byte_normalise.hpp"

namespace lineage {
namespace {

using merge_key = std::pair<std::string, std::string>;

// A vocabulary seen through one key (the piece, or its bytes): per key the token of lowest id.
struct keyed_vocabulary {
  std::vector<std::pair<std::string, const vocabulary_token*>> kept;  // by increasing id
  std::unordered_map<std::string, const vocabulary_token*> by_key;
  std::uint64_t folded = 0;
  std::map<merge_key, std::int32_t> merge_rank;  // the first rank of each distinct merge
};

using token_key = std::function<std::string(const vocabulary_token&)>;

keyed_vocabulary keyed(const tokenizer_vocabulary& vocabulary, const token_key& key_of,
                       const std::vector<merge_key>& merges) {
  keyed_vocabulary out;
  out.kept.reserve(vocabulary.tokens.size());
  for (const auto& token : vocabulary.tokens) {  // sorted by id: the first of a key is its lowest id
    std::string key = key_of(token);
    if (!out.by_key.emplace(key, &token).second) {
      ++out.folded;
      continue;
    }
    out.kept.emplace_back(std::move(key), &token);
  }
  for (std::size_t rank = 0; rank < merges.size(); ++rank)
    out.merge_rank.emplace(merges[rank], static_cast<std::int32_t>(rank));
  return out;
}

void count_merges(const keyed_vocabulary& a, const keyed_vocabulary& b, overlap_figures& f) {
  f.merges_a = a.merge_rank.size();
  f.merges_b = b.merge_rank.size();
  std::vector<std::pair<std::int32_t, std::int32_t>> ranks;  // (rank in A, rank in B)
  for (const auto& [merge, rank_a] : a.merge_rank)
    if (const auto in_b = b.merge_rank.find(merge); in_b != b.merge_rank.end()) ranks.emplace_back(rank_a, in_b->second);
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
  return keyed(v, [](const vocabulary_token& token) { return token.piece; }, merges);
}

keyed_vocabulary byte_view(const tokenizer_vocabulary& v) {
  return keyed(v, [&v](const vocabulary_token& token) { return token_bytes(v, token); }, merge_bytes(v));
}

}  // namespace

vocabulary_comparison compare_vocabularies(const tokenizer_vocabulary& a, const tokenizer_vocabulary& b,
                                           std::size_t examples) {
  vocabulary_comparison out;
  out.raw = overlap(raw_view(a), raw_view(b), examples);
  out.bytes = overlap(byte_view(a), byte_view(b), examples);
  return out;
}

std::vector<std::pair<std::uint32_t, std::uint32_t>> shared_token_ids(const tokenizer_vocabulary& a,
                                                                      const tokenizer_vocabulary& b) {
  const keyed_vocabulary view_a = byte_view(a), view_b = byte_view(b);
  std::vector<std::pair<std::uint32_t, std::uint32_t>> pairs;
  for (const auto& [key, token_a] : view_a.kept)
    if (const auto found = view_b.by_key.find(key); found != view_b.by_key.end())
      pairs.emplace_back(token_a->id, found->second->id);
  return pairs;
}

}  // namespace lineage
