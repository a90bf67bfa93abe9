#pragma once
// A rank's run facts, sent to rank 0 beside its results (reduce/block_results.hpp) and shown in the
// report's per-rank table: apart from the report model, so that what ranks send does not include
// every figure.
#include <cstdint>
#include <string>

namespace lineage {

// One rank's part in the job's comparison of A and B: where its time went and what it read. Run
// facts, not results: they differ between runs of the same inputs.
struct rank_run {
  int rank = 0;
  std::string host;
  double seconds_matching = 0;  // the matching phases' units
  double seconds_blocks = 0;    // the statistics phase: blocks
  double seconds_nulls = 0;     // permutation nulls
  double seconds_other = 0;     // cross-layer, neuron-matching, fingerprint and content-manifest units
  double seconds_waiting = 0;   // for the other ranks, once its own units were done
  double seconds_total = 0;     // from its first plan to its results gathered
  std::uint64_t bytes_read = 0;     // checkpoint bytes of the blocks, nulls and content units it computed
  std::uint64_t units = 0;          // statistics units it computed in this run
  std::uint64_t units_resumed = 0;  // its units an earlier, interrupted run had finished
  std::uint64_t peak_resident_bytes = 0;  // getrusage's maximum resident set, at the end

  template <class Archive>
  void serialize(Archive& archive, unsigned /*version*/) {
    archive & rank & host & seconds_matching & seconds_blocks & seconds_nulls & seconds_other & seconds_waiting &
        seconds_total & bytes_read & units & units_resumed & peak_resident_bytes;
  }
};

}  // namespace lineage
