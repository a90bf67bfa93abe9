#include "app/tokenizers_command.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <memory>
#include <string>

#include "core/atomic_output.hpp"
#include "core/display_text.hpp"
#include "core/error.hpp"
#include "report/vocabulary_report.hpp"

namespace lineage {
namespace {

struct tokenizers_request {
  std::string tokenizer_a;
  std::string tokenizer_b;
  std::string output_dir;
};

std::string described(const tokenizer_vocabulary& v) {
  std::string spelling = v.byte_level ? ", byte level" : v.sentencepiece ? ", SentencePiece" : "";
  return fmt::format("{} ({}{}, {} tokens, {} merges)", v.source, tokenizer_kind_name(v.kind), spelling,
                     v.tokens.size(), v.merges.size());
}

std::string percent(double fraction) { return std::isfinite(fraction) ? fmt::format("{:.1f} %", 100 * fraction) : "-"; }

std::string summary_line(std::string_view label, const overlap_figures& f) {
  const std::string spearman =
      std::isfinite(f.merge_rank_spearman) ? fmt::format(", merge-rank Spearman {:.3f}", f.merge_rank_spearman) : "";
  return fmt::format("{:<6} {} of {} / {} shared ({} of A, {} of B), Jaccard {:.3f}, same id {}, merges shared {}{}",
                     label, f.shared, f.size_a, f.size_b, percent(f.share_of_a), percent(f.share_of_b),
                     std::isfinite(f.jaccard) ? f.jaccard : 0.0, f.same_id, f.merges_shared, spearman);
}

int run_tokenizers(const tokenizers_request& request) {
  const std::filesystem::path out_dir = request.output_dir;
  ensure_writable_directory(out_dir);
  const auto report_path = out_dir / "tokenizers.json";
  std::error_code ec;
  std::filesystem::remove(report_path, ec);  // a failed run leaves no earlier result behind
  if (ec) throw input_error(fmt::format("{}: cannot remove the earlier report: {}", report_path.string(), ec.message()));

  const tokenizer_vocabulary a = read_tokenizer(request.tokenizer_a);
  const tokenizer_vocabulary b = read_tokenizer(request.tokenizer_b);
  const vocabulary_comparison comparison = compare_vocabularies(a, b);
  const auto document = vocabulary_report_json(a, b, comparison);
  write_file_atomically(report_path, document.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");

  fmt::print("A: {}\nB: {}\n{}\n{}\n{}\nreport: {}\n", printable(described(a)), printable(described(b)),
             summary_line("raw", comparison.raw), summary_line("bytes", comparison.bytes), vocabulary_note,
             printable(report_path.string()));
  return 0;
}

}  // namespace

command add_tokenizers_command(CLI::App& parent) {
  auto request = std::make_shared<tokenizers_request>();
  CLI::App* app = parent.add_subcommand(
      "tokenizers",
      "Compare the vocabularies of two tokenizers (raw pieces and byte-normalised); writes DIR/tokenizers.json. "
      "No MPI needed");
  app->add_option("A", request->tokenizer_a, "tokenizer A: a tokenizer.json or a model directory holding one")->required();
  app->add_option("B", request->tokenizer_b, "tokenizer B: a tokenizer.json or a model directory holding one")->required();
  app->add_option("-o,--output", request->output_dir, "output directory (created if missing)")->required();
  return {app, [request]() -> int { return run_tokenizers(*request); }};
}

}  // namespace lineage
