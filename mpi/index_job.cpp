#include "mpi/index_job.hpp"

#include <fmt/format.h>

#include <optional>
#include <span>
#include <utility>

#include "core/atomic_output.hpp"
#include "core/content_hash.hpp"
#include "core/display_text.hpp"
#include "mpi/failure_protocol.hpp"
#include "registry/fingerprint_h5.hpp"
#include "registry/registry_listing.hpp"
#include <boost/serialization/utility.hpp>

#include "shard/archive_bytes.hpp"

namespace lineage {
namespace {

struct rank_pieces {
  std::vector<std::pair<std::uint64_t, fingerprint_file_digest>> files;
  std::vector<std::pair<std::uint64_t, attention_sketch>> layers;

  template <class Archive>
  void serialize(Archive& archive, unsigned /*version*/) {
    archive & files & layers;
  }
};

rank_pieces my_pieces(const communicator& comm, const index_source& source, const std::vector<float>& rows) {
  rank_pieces pieces;
  const auto mine = [&](std::size_t i) { return static_cast<int>(i % static_cast<std::size_t>(comm.size())) == comm.rank(); };
  for (std::size_t i = 0; i < source.model.files.size(); ++i)
    if (mine(i)) pieces.files.emplace_back(i, digest_file(source, i));
  for (std::size_t i = 0; i < source.layers.size(); ++i)
    if (mine(i)) pieces.layers.emplace_back(i, sketch_layer(source, rows, i));
  return pieces;
}

// Rank 0: the pieces of every rank in source order.
model_fingerprint assembled(const index_source& source, std::vector<float> rows,
                            const std::vector<std::vector<char>>& gathered) {
  std::vector<fingerprint_file_digest> files(source.model.files.size());
  std::vector<attention_sketch> layers(source.layers.size());
  for (const std::vector<char>& bytes : gathered) {
    rank_pieces pieces = from_bytes<rank_pieces>(bytes);
    for (auto& [i, digest] : pieces.files) files.at(i) = std::move(digest);
    for (auto& [i, sketch] : pieces.layers) layers.at(i) = std::move(sketch);
  }
  return assemble_fingerprint(source, std::move(rows), std::move(files), std::move(layers));
}

void write_member(const index_request& request, const model_fingerprint& fingerprint) {
  const std::string file = fingerprint_file_name(fingerprint.name);
  const std::filesystem::path path = request.registry / file;
  const std::string image = fingerprint_image(fingerprint, path.string());
  write_file_atomically(path, image);
  const std::string digest = sha256_hex(std::as_bytes(std::span<const char>(image.data(), image.size())));
  add_to_registry(request.registry, {fingerprint.name, file, digest, checkpoint_digest(fingerprint.files),
                                     std::filesystem::absolute(request.model).lexically_normal().string()});
  const double share = fingerprint.checkpoint_bytes > 0
                           ? 100.0 * static_cast<double>(image.size()) / static_cast<double>(fingerprint.checkpoint_bytes)
                           : 0.0;
  fmt::print("fingerprint: {} ({} bytes, {:.3f} % of the checkpoint's {} bytes; {} token rows, {} attention layers)\n"
             "registry: {}\n",
             printable(path.string()), image.size(), share, fingerprint.checkpoint_bytes, fingerprint.row_keys.size(),
             fingerprint.layers.size(), printable((request.registry / "registry.json").string()));
}

}  // namespace

int run_index_job(const communicator& comm, const index_request& request) {
  std::optional<index_source> source;
  std::vector<float> rows;
  outcome opened = attempt([&] {
    if (comm.is_root()) ensure_writable_directory(request.registry);
    source.emplace(open_index_source(request.model, request.options));
    rows = token_rows(*source);
  });
  if (const int status = agree(comm, opened); status != 0) return status;
  std::vector<char> mine;
  outcome computed = attempt([&] { mine = to_bytes(my_pieces(comm, *source, rows)); });
  if (const int status = agree(comm, computed); status != 0) return status;
  const std::vector<std::vector<char>> gathered = comm.gather(mine);
  outcome written;
  if (comm.is_root()) written = attempt([&] { write_member(request, assembled(*source, std::move(rows), gathered)); });
  return share_root_status(comm, written);
}

}  // namespace lineage
