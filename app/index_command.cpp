#include "app/index_command.hpp"

#include <memory>

#include "app/mpi_job.hpp"
#include "mpi/index_job.hpp"

namespace lineage {

command add_index_command(CLI::App& parent) {
  auto request = std::make_shared<index_request>();
  CLI::App* app = parent.add_subcommand(
      "index",
      "Fingerprint a model for ancestor search (run under mpirun/srun; ranks share its files and layers); writes "
      "REGISTRY/NAME.fingerprint.h5 and adds it to REGISTRY/registry.json");
  app->add_option("MODEL", request->model, "a Hugging Face directory (tokenizer.json beside it keys the token rows)")
      ->required();
  app->add_option("-o,--output", request->registry, "registry directory (created if missing)")->required();
  app->add_option("--rows", request->options.rows, "token rows sampled from the embedding (default 1024)")
      ->check(CLI::Range(std::size_t{8}, std::size_t{1} << 20));
  app->add_option("--frame", request->options.frame,
                  "of those, the tokens whose embeddings are the attention sketches' frame (default: the most up "
                  "to 64, at least 16, that keeps the fingerprint within 0.1 % of the checkpoint)")
      ->check(CLI::Range(std::size_t{2}, std::size_t{4096}));
  app->add_option("--arch-dir", request->options.rules_dir,
                  "directory of architecture rule files to use instead of the built-in ones");
  return {app, [request]() -> int {
            return run_mpi_job([&](const communicator& world) { return run_index_job(world, *request); });
          }};
}

}  // namespace lineage
