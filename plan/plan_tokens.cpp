// Token pairing: the embeddings and output heads of two vocabularies meet row by row where the rows
// stand for the same token (issue 5, point 4). A vocabulary extension keeps its parent's rows and
// appends others; two tokenizers of one family share most pieces under other ids. Either way the
// rows of the shared tokens are what a derivative kept, and the permutation null of the pair (over
// its explicit row pairs) is a null of random token pairings.
#include <algorithm>

#include "plan/plan_views.hpp"

namespace lineage {

bool is_token_row_role(std::string_view role) noexcept {
  if (role.starts_with("mtp.")) role.remove_prefix(4);
  return role == "embed_tokens.weight" || role == "lm_head.weight" || role == "shared_head.head.weight";
}

std::optional<tensor_pair> token_paired(const token_pairing* tokens, const tensor_key& key, const planned_tensor& a,
                                        const planned_tensor& b) {
  if (tokens == nullptr || !tokens->available || key.expert >= 0 || !is_token_row_role(key.role)) return std::nullopt;
  if (a.shape.size() != 2 || b.shape.size() != 2 || a.shape[1] != b.shape[1]) return std::nullopt;
  // The same vocabulary on embeddings of one shape: row t is token t on both sides already.
  if (tokens->identical && a.shape[0] == b.shape[0]) return std::nullopt;
  tensor_pair pair;
  pair.key = key;
  pair.a = a;
  pair.b = b;
  // Tokens beyond a tensor's rows (a tokenizer larger than the embedding) have no row to compare.
  for (std::size_t k = 0; k < tokens->ids_a.size(); ++k)
    if (tokens->ids_a[k] < a.shape[0] && tokens->ids_b[k] < b.shape[0]) {
      pair.rows_a.push_back(tokens->ids_a[k]);
      pair.rows_b.push_back(tokens->ids_b[k]);
    }
  if (pair.rows_a.size() < 2) return std::nullopt;
  pair.pairing = "shared tokens";
  return pair;
}

}  // namespace lineage
