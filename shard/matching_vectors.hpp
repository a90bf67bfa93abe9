#pragma once
// What the matching units share (neuron_match.cpp: the neurons of an MLP; hidden_match.cpp: the
// hidden dimensions of the residual stream): per object one vector, centred and scaled to norm 1
// so that a dot product is a Pearson correlation; the objects_a × objects_b similarity matrix; and
// Spearman's correlation of two matchings, the test that a derivative's matchings agree.
#include <cmath>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "core/random_stream.hpp"
#include "shard/work_block.hpp"

namespace lineage {

class block_reader;

// objects × length floats, row-major: one standardised vector per object.
struct object_vectors {
  std::vector<float> values;
  std::size_t length = 0;
  bool finite = true;
};

// Centres each of the `objects` vectors on its mean and scales it to norm 1 (a constant vector
// becomes 0).
void standardise(object_vectors& v, std::size_t objects);

// Objects are the rows of a [rows, row_length] tensor starting at `first`; each row's vector is
// its columns `columns` (in that order). Standardised.
object_vectors read_row_objects(block_reader& reader, int side, const element_location& first, std::uint64_t rows,
                                std::uint64_t row_length, std::span<const std::uint32_t> columns);

// The same for the rows listed in `rows` (in that order) only.
object_vectors read_row_objects(block_reader& reader, int side, const element_location& first,
                                std::span<const std::uint32_t> rows, std::uint64_t row_length,
                                std::span<const std::uint32_t> columns);

// The objects listed in `objects` (in that order), already standardised, copied out of `v`.
object_vectors select_objects(const object_vectors& v, std::span<const std::uint32_t> objects);

// Objects are the columns of a [*, objects] tensor starting at `first`; each column's vector is
// its rows `rows` (in that order), transposed. Standardised.
object_vectors read_column_objects(block_reader& reader, int side, const element_location& first,
                                   std::uint64_t objects, std::span<const std::uint32_t> rows);

// begin, begin + 1, …, begin + count − 1: the contiguous positions a side reads without alignment.
std::vector<std::uint32_t> index_range(std::uint64_t begin, std::uint64_t count);

// objects_a × objects_b Pearson correlations (row kernel: the same bits on any rank).
std::vector<double> pearson_matrix(const object_vectors& a, std::size_t objects_a, const object_vectors& b,
                               std::size_t objects_b);

// Spearman's rank correlation of two sequences of distinct values (matched B objects).
double rank_correlation(const std::vector<std::int32_t>& x, const std::vector<std::int32_t>& y);

// Spearman's test of two matchings (per A object its B object, −1 when unmatched).
struct matching_agreement {
  std::uint64_t ranked = 0;    // A objects matched in both (the sample size)
  double spearman = NAN;       // NaN when fewer than two are
  std::vector<double> null;    // ρ under `permutations` random reorderings of the second's values
  double randomizer = 1;       // U in (0, 1], drawn after the null
};
matching_agreement agreement_of(const std::vector<std::int32_t>& first, const std::vector<std::int32_t>& second,
                                std::uint32_t permutations, random_stream& stream);

// agreement_of stored in a matching unit's result (members ranked, spearman, null, randomizer,
// usable, reason): usable unless fewer than two objects are matched in both, which `too_few` says.
template <class Result>
void store_agreement(Result& result, const std::vector<std::int32_t>& first, const std::vector<std::int32_t>& second,
                     std::uint32_t permutations, random_stream& stream, const char* too_few) {
  matching_agreement agreement = agreement_of(first, second, permutations, stream);
  result.ranked = agreement.ranked;
  result.spearman = agreement.spearman;
  if (!std::isfinite(result.spearman)) {
    result.reason = too_few;
    return;
  }
  result.null = std::move(agreement.null);
  result.randomizer = agreement.randomizer;
  result.usable = true;
}

}  // namespace lineage
