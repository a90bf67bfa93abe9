#pragma once
// Similarities of a sample of objects against many, computed only where they can win: a coarse pass
// over the first `coarse` coordinates of every pair picks each row's `keep` best columns per role,
// and the exact similarity over all coordinates is computed on the union of those candidates.
// Used by neuron matching of wide MLPs (neuron_match.cpp), where the dense rows × columns product
// over every compared dimension cost more than the rest of a comparison together (issue 20).
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "core/sparse_assignment.hpp"
#include "shard/matching_vectors.hpp"
#include "shard/unit_team.hpp"

namespace lineage {

// One role's objects on both sides (standardised, the same length): a's rows are the sample.
struct role_objects {
  const object_vectors* a = nullptr;
  const object_vectors* b = nullptr;
};

// Per row of the sample, its candidate columns (ascending) and each role's exact Pearson there.
struct candidate_similarities {
  std::size_t columns = 0;
  std::vector<std::size_t> begin{0};
  std::vector<std::uint32_t> column;
  std::vector<std::vector<double>> by_role;  // [role][edge]

  // One role's scores, or (role = roles) their mean, as an assignment graph; `magnitude`: |score|.
  [[nodiscard]] candidate_graph graph(std::size_t role, bool magnitude = false) const;
  // `next`'s rows (the sample's following rows, the same columns and roles) after these.
  void append(const candidate_similarities& next);

  template <class Archive>
  void serialize(Archive& archive, unsigned /*version*/) {
    archive & columns & begin & column & by_role;
  }
};

// `by_magnitude`: columns ranked by |coarse Pearson| (a sign flip matches as well: hidden dimensions).
candidate_similarities find_candidates(std::span<const role_objects> roles, std::size_t rows, std::size_t columns,
                                       std::size_t coarse, std::size_t keep, bool by_magnitude = false);

// The same, split over the team's members by the sample's rows (each row's candidates and scores do
// not depend on the others): every member receives all of them, with the bits of one member's run.
candidate_similarities find_candidates(std::span<const role_objects> roles, std::size_t rows, std::size_t columns,
                                       std::size_t coarse, std::size_t keep, bool by_magnitude, const unit_team& team);

// The first `length` coordinates of each object, standardised again (a Pearson over that prefix).
object_vectors prefix_objects(const object_vectors& v, std::size_t objects, std::size_t length);

// Objects [first, first + count) of `v`, as they are.
object_vectors object_slice(const object_vectors& v, std::size_t first, std::size_t count);

}  // namespace lineage
