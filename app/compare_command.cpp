#include "app/compare_command.hpp"

#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "app/mpi_job.hpp"
#include "mpi/compare_job.hpp"

namespace lineage {
namespace {

// CLI11 reads integers with base detection ("010" is 8, "0x10" is 16) and wraps "-1" around; a
// count on a job's command line is plain decimal.
std::string decimal_count(const std::string& text) {
  const bool digits = !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
  if (!digits || text.front() == '0') return "must be a positive decimal integer, got '" + text + "'";
  return {};
}

std::string decimal_count_or_zero(const std::string& text) {
  return text == "0" ? std::string() : decimal_count(text);
}


// The models, the output and the job file.
void add_job_options(CLI::App* app, compare_arguments& args) {
  app->add_option("A", args.model_a, "model A: a Hugging Face directory or a .safetensors file");
  app->add_option("B", args.model_b, "model B: a Hugging Face directory or a .safetensors file");
  app->add_option("-o,--output", args.output_dir, "output directory (created if missing)");
  app->add_option("--config", args.config_file,
                  "YAML job file (keys as in configs/demo.yaml: models, evidence, null sizes, alpha, output, "
                  "memory_budget, io_mode, null_draws); command-line values override it");
  app->add_option("--block-elements", args.block_elements,
                  "elements per work block (default 4194304; does not depend on the rank count)")
      ->check(decimal_count);
}

// Which evidence to compute, and the sizes of its nulls.
void add_evidence_options(CLI::App* app, compare_arguments& args) {
  app->add_option("--permutations-vector", args.permutations_vector,
                  "draws of the symmetry null of a test unit of vectors only, computed directly (default "
                  "1000, 0 = none)")
      ->check(decimal_count_or_zero);
  app->add_option("--permutations-matrix", args.permutations_matrix,
                  "draws of the symmetry null of a test unit with matrices, computed directly (default 200, "
                  "0 = none)")
      ->check(decimal_count_or_zero);
  app->add_option("--permutations-products", args.permutations_products,
                  "draws of a test unit whose null is computed from cross products, where a draw costs "
                  "O(units) (default 10000; never fewer than the direct count)")
      ->check(decimal_count_or_zero);
  app->add_option("--null-draws", args.null_draws,
                  "auto (default): a unit of n interchangeable units (neurons, hidden dimensions) draws K of "
                  "the n - 1 cyclic shifts of a random order of them (all computed at once by FFT) when n - 1 "
                  "is at least its K and that is cheaper, else K random permutations; random: always K random permutations; "
                  "cyclic: always shifts");
  app->add_option("--permutations-experts", args.permutations_experts,
                  "permutations in the null of each MoE layer's expert matching (default 100; 0 = pair "
                  "experts by index, no matching)")
      ->check(decimal_count_or_zero);
  app->add_option("--permutations-neurons", args.permutations_neurons,
                  "permutations of Spearman's exact null in neuron and hidden matching (default 0: its closed "
                  "form decides)")
      ->check(decimal_count_or_zero);
  app->add_flag("--no-neuron-matching", args.no_neuron_matching,
                "do not match the neurons of each MLP (the test that survives neuron permutations)");
  app->add_flag("--no-hidden-matching", args.no_hidden_matching,
                "do not match the hidden dimensions on the embedding (the test that survives a permutation "
                "of the residual stream)");
  app->add_option("--permutations-heads", args.permutations_heads,
                  "permutations of Spearman's null in attention-head matching (default 1000, at least 1: "
                  "heads are few, so the closed form does not hold)")
      ->check(decimal_count);
  app->add_flag("--no-head-matching", args.no_head_matching,
                "do not match the attention heads of each layer (the test that survives head permutations)");
  app->add_flag("--no-cross-layer", args.no_cross_layer,
                "do not build the layer × layer matrices (nor their layer-label null)");
  app->add_flag("--no-fingerprints", args.no_fingerprints,
                "do not compare tensors of one key but another shape by shape-free fingerprints");
  app->add_flag("--no-tokenizers", args.no_tokenizers,
                "ignore tokenizer.json beside the models (no vocabulary comparison; embeddings pair by id)");
}

// How ranks read, and the reference panel.
void add_reading_and_panel_options(CLI::App* app, compare_request& request) {
  auto& args = request.arguments;
  app->add_option("--memory-budget", args.memory_budget,
                  "peak resident memory per rank, e.g. 8GiB (mapping windows and buffers stay under it)");
  app->add_option("--io", args.io_mode,
                  "how ranks read checkpoints: map (memory maps of bounded windows, default) or read (pread "
                  "into buffers)");
  app->add_option("--reference", args.reference_panel,
                  "a reference model known to be unrelated to A and B (repeatable): compared with both "
                  "in this job, its scores are a further null per role");
  app->add_option("--panel-report", args.panel_reports,
                  "report.h5 of A or B against a reference model, run as a job of its own (repeatable; "
                  "e.g. the tasks of a Slurm job array), merged as a reference-panel comparison");
  app->add_option("--panel-member", args.panel_member,
                  "run reference-panel member I (0 to 2R-1: A or B against reference I/2) of the job file alone, "
                  "into OUTPUT/panel/I (a task of slurm/panel.sbatch's job array)")
      ->check(decimal_count_or_zero);
  app->add_flag("--panel-from-tasks", args.panel_from_tasks,
                "merge OUTPUT/panel/*/report.h5 of every panel member instead of running the panel in this job");
  app->add_flag("--panel-tasks", request.print_panel_tasks,
                "print the number of reference-panel members (job-array tasks) of the configuration and exit "
                "(no MPI)");
}

// Seeds, levels, rules, resume and progress.
void add_run_options(CLI::App* app, compare_request& request) {
  auto& args = request.arguments;
  app->add_option("--seed", args.seed, "seed of every permutation stream (default 20260123)")
      ->check(decimal_count);
  app->add_flag("--no-resume", request.no_resume,
               "ignore work an interrupted run of this job saved in DIR/.lineage-resume and do it all again");
  app->add_option("--progress", request.progress,
                  "how rank 0 shows progress on stderr: auto (a bar on a terminal, else log lines), bar, log, none")
      ->check(CLI::IsMember({"auto", "bar", "log", "none"}));
  app->add_option("--progress-every", request.progress_every, "seconds between progress log lines (default 60)")
      ->check(CLI::PositiveNumber);
  app->add_flag("--sha256", args.sha256,
                "also record the SHA-256 of every file of both checkpoints (safetensors, index, config and "
                "tokenizer files) in the report's manifest, hashed by the ranks file by file");
  app->add_option("--alpha", args.alpha, "family-wise level of the verdict (default 0.01)");
  app->add_option("--arch-dir", args.arch_dir,
                  "directory of architecture rule files to use instead of the built-in ones");
}

}  // namespace

command add_compare_command(CLI::App& parent, std::string command_line) {
  auto request = std::make_shared<compare_request>();
  request->command_line = std::move(command_line);
  CLI::App* app = parent.add_subcommand(
      "compare",
      "Compare two checkpoints tensor by tensor (run under mpirun/srun); writes DIR/report.h5 and "
      "DIR/report.json");
  add_job_options(app, request->arguments);
  add_evidence_options(app, request->arguments);
  add_reading_and_panel_options(app, *request);
  add_run_options(app, *request);
  return {app, [request]() -> int {
            if (request->print_panel_tasks) {
              std::cout << panel_task_count(resolve_compare_config(request->arguments)) << std::endl;
              return 0;
            }
            return run_mpi_job([&](const communicator& world) { return run_compare_job(world, *request); });
          }};
}

}  // namespace lineage
