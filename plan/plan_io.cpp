#include "plan/plan_io.hpp"

#include <boost/serialization/string.hpp>
#include <boost/serialization/vector.hpp>

#include "shard/archive_bytes.hpp"

namespace lineage {

template <class Archive>
void serialize(Archive& ar, tensor_key& k, unsigned /*version*/) {
  ar & k.layer & k.role & k.expert;
}
template <class Archive>
void serialize(Archive& ar, planned_tensor& t, unsigned /*version*/) {
  ar & t.name & t.type & t.shape & t.file & t.byte_offset & t.elements;
}
template <class Archive>
void serialize(Archive& ar, tensor_pair& p, unsigned /*version*/) {
  ar & p.key & p.a & p.b & p.first_block & p.block_count & p.rows_a & p.rows_b & p.exclude_begin & p.exclude_end &
      p.pairing & p.alignment & p.axes & p.rotated & p.test_axis & p.test_unit & p.untested;
}
template <class Archive>
void serialize(Archive& ar, unpaired_tensor& u, unsigned /*version*/) {
  ar & u.side & u.name & u.key & u.type & u.shape & u.reason;
}
template <class Archive>
void serialize(Archive& ar, model_description& m, unsigned /*version*/) {
  ar & m.path & m.model_type & m.architecture & m.files & m.file_sizes & m.tensor_count &
      m.parameter_count & m.config_json;
}
template <class Archive>
void serialize(Archive& ar, work_plan& p, unsigned /*version*/) {
  ar & p.model_a & p.model_b & p.block_elements & p.reading & p.pairs & p.blocks & p.unpaired & p.rank_first_block &
      p.nulls & p.null_rank & p.units & p.cross_layers & p.cross_layer_rank & p.expert_matches & p.expert_match_rank &
      p.expert_matching & p.neuron_matches & p.neuron_match_rank & p.hidden_matches & p.hidden_match_rank &
      p.hidden_matching & p.head_matches & p.head_match_rank & p.head_matching & p.head_applied & p.alignments &
      p.hidden_order & p.hidden_rotation & p.hidden_rotation_rows & p.fingerprints & p.fingerprint_rank & p.tokenizers & p.content;
}

std::vector<char> serialize_plan(const work_plan& plan) { return to_bytes(plan); }

work_plan deserialize_plan(const std::vector<char>& bytes) { return from_bytes<work_plan>(bytes); }

}  // namespace lineage
