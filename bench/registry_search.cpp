// Ancestor search over a registry of many synth models (issue 21, point 4: "screening 1,000
// registered fingerprints in under 10 s on one core"), beside the reference measured in the same
// run: reading every fingerprint file's bytes once.
//   bench_registry_search [--members N] [--hidden H] [--work DIR] [--keep]
// Builds the registry first: each model written by synth (a quarter with a shared token structure,
// a fifth with another tokenizer), fingerprinted in this process, added to the registry and
// removed. Then, for derived queries of ten kinds (each from another member) and ten independent
// queries of the same families: the whole search (loading every member with its SHA-256 check, the
// tests, the correction), the rank of the ancestor, and any member significant for an unrelated
// query. The timings exclude fingerprinting the query itself (printed apart).
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "core/atomic_output.hpp"
#include "core/content_hash.hpp"
#include "registry/fingerprint_build.hpp"
#include "registry/fingerprint_h5.hpp"
#include "registry/search.hpp"
#include "synth/synth.hpp"

namespace {

namespace fs = std::filesystem;
using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point start) {
  return std::chrono::duration<double>(clock_type::now() - start).count();
}

struct bench_options {
  std::uint64_t members = 1000, hidden = 128;
  std::string work = "bench-registry";
  bool keep = false;
};

lineage::synth::model_shape shape_of(const bench_options& o) {
  lineage::synth::model_shape shape;
  shape.hidden = o.hidden;
  shape.intermediate = 2 * o.hidden + o.hidden / 2;
  shape.heads = 8;
  shape.kv_heads = 4;
  return shape;
}

lineage::synth::write_options family_of(std::uint64_t i) {
  lineage::synth::write_options w;
  if (i % 4 == 1) {
    w.structure.shared_seed = 5;
    w.structure.token_profile = true;
    w.structure.special_tokens = 8;
    w.structure.unused_tokens = 256;
  }
  if (i % 5 == 2) w.tokenizer_seed = 9;
  return w;
}

std::string member_name(std::uint64_t i) { return fmt::format("member-{:04}", i); }

// Writes, fingerprints and registers member i; the model itself is removed unless `keep_model`.
void add_member(const bench_options& o, std::uint64_t i, bool keep_model) {
  const fs::path model = fs::path(o.work) / "models" / member_name(i);
  lineage::synth::write_independent_model(shape_of(o), 10000 + i, model, family_of(i));
  const lineage::model_fingerprint f = lineage::fingerprint_in_process(model, {});
  const fs::path registry = fs::path(o.work) / "registry";
  const std::string file = lineage::fingerprint_file_name(f.name);
  const std::string image = lineage::fingerprint_image(f, (registry / file).string());
  lineage::write_file_atomically(registry / file, image);
  lineage::add_to_registry(registry, {f.name, file, lineage::sha256_hex(std::as_bytes(std::span(image))),
                                      lineage::checkpoint_digest(f.files), fs::absolute(model).string()});
  if (!keep_model) fs::remove_all(model);
}

double read_every_file(const fs::path& registry) {
  const auto start = clock_type::now();
  std::size_t bytes = 0;
  for (const auto& entry : fs::directory_iterator(registry)) {
    std::ifstream in(entry.path(), std::ios::binary);
    const std::string data{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    bytes += data.size();
  }
  const double s = seconds_since(start);
  fmt::print("reference: reading the {} registry files' {:.1f} MB once: {:.2f} s\n",
             std::distance(fs::directory_iterator(registry), fs::directory_iterator{}), static_cast<double>(bytes) / 1e6, s);
  return s;
}

struct query {
  std::string label;
  fs::path model;
  std::string ancestor;  // empty: independent of every member
};

std::vector<query> make_queries(const bench_options& o) {
  using kind = lineage::synth::derivation_kind;
  const std::pair<kind, double> kinds[] = {{kind::noise, 0.01},       {kind::drift, 0.3},
                                           {kind::permute_hidden, 0}, {kind::rotate_hidden, 0},
                                           {kind::fold_norms, 0},     {kind::permute_heads, 0},
                                           {kind::rescale_norms, 0.5}, {kind::drop_layers, 0},
                                           {kind::extend_vocab, 0},   {kind::permute_neurons, 0}};
  std::vector<query> queries;
  std::uint64_t step = std::max<std::uint64_t>(1, o.members / 10), k = 0;
  for (const auto& [how, scale] : kinds) {
    const std::uint64_t i = (k++ * step + 3) % o.members;
    const fs::path parent = fs::path(o.work) / "models" / member_name(i);
    lineage::synth::derivation d;
    d.kind = how;
    if (scale > 0) d.scale = scale;
    if (how == kind::drop_layers) d.layers = {1};
    if (how == kind::extend_vocab) d.tokens = 64;
    const std::string label(lineage::synth::derivation_kind_name(how));
    queries.push_back({label, fs::path(o.work) / "queries" / label, member_name(i)});
    lineage::synth::write_derived_model(parent, queries.back().model, d);
  }
  for (std::uint64_t j = 0; j < 10; ++j) {
    const fs::path model = fs::path(o.work) / "queries" / fmt::format("independent-{}", j);
    lineage::synth::write_independent_model(shape_of(o), 90000 + j, model, family_of(j));
    queries.push_back({fmt::format("independent {}", j), model, ""});
  }
  return queries;
}

}  // namespace

int main(int argc, char** argv) {
  bench_options o;
  CLI::App app{"Ancestor search over a registry of many synth models"};
  app.add_option("--members", o.members, "registry members (default 1000)")->check(CLI::Range(12, 100000));
  app.add_option("--hidden", o.hidden, "hidden size of every model (default 128)")->check(CLI::Range(16, 4096));
  app.add_option("--work", o.work, "work directory (default bench-registry)");
  app.add_flag("--keep", o.keep, "keep the work directory");
  CLI11_PARSE(app, argc, argv);
  fs::remove_all(o.work);
  lineage::ensure_writable_directory(fs::path(o.work) / "registry");
  const auto built = clock_type::now();
  const std::uint64_t step = std::max<std::uint64_t>(1, o.members / 10);
  for (std::uint64_t i = 0; i < o.members; ++i) add_member(o, i, i % step == 3);
  fmt::print("registry: {} members of hidden {} built and indexed in {:.1f} s ({:.1f} ms a member)\n", o.members,
             o.hidden, seconds_since(built), 1e3 * seconds_since(built) / static_cast<double>(o.members));
  const std::vector<query> queries = make_queries(o);
  const double reference = read_every_file(fs::path(o.work) / "registry");
  std::size_t found = 0, derived_queries = 0, false_queries = 0;
  // Unadjusted p-values of every member against the independent queries: the nulls' calibration.
  std::vector<double> unrelated_member_p, unrelated_unit_p;
  double slowest = 0;
  for (const query& q : queries) {
    auto start = clock_type::now();
    const lineage::model_fingerprint f = lineage::fingerprint_in_process(q.model, {});
    const double fingerprinting = seconds_since(start);
    start = clock_type::now();
    const fs::path registry = fs::path(o.work) / "registry";
    const auto members = lineage::read_registry(registry);
    double loading = 0;
    const lineage::search_result r = lineage::search_registry(
        f, members,
        [&](const lineage::registry_entry& entry) {
          const auto read = clock_type::now();
          lineage::model_fingerprint member = lineage::load_member(registry, entry);
          loading += seconds_since(read);
          return member;
        },
        {});
    const double searching = seconds_since(start);
    slowest = std::max(slowest, searching);
    const auto& top = r.candidates.front();
    std::size_t significant = 0;
    for (const auto& c : r.candidates) significant += c.verdict == "derived" || c.verdict == "identical" ? 1 : 0;
    if (!q.ancestor.empty()) {
      ++derived_queries;
      found += top.member.name == q.ancestor && top.verdict == "derived" ? 1 : 0;
    } else {
      false_queries += significant > 0 ? 1 : 0;
      for (const auto& c : r.candidates) {
        unrelated_member_p.push_back(c.evidence.p);
        for (const auto& u : c.evidence.units) unrelated_unit_p.push_back(u.p);
      }
    }
    fmt::print("{:<16} search {:.2f} s (loading {:.2f} s; ratio to the reference {:.2f}), query fingerprint {:.3f} s; "
               "first {} ({}, adjusted p {:.2g}){}\n",
               q.label, searching, loading, searching / reference, fingerprinting, top.member.name, top.verdict,
               top.adjusted_p, q.ancestor.empty() ? "" : (top.member.name == q.ancestor ? ": the ancestor" : ": NOT the ancestor"));
  }
  fmt::print("recall: {} of {} derived queries rank their ancestor first as derived; false positives: {} of {} "
             "independent queries have a significant member; slowest search {:.2f} s ({:.2f}x the reference)\n",
             found, derived_queries, false_queries, queries.size() - derived_queries, slowest, slowest / reference);
  const auto share = [](const std::vector<double>& p, double t) {
    return static_cast<double>(std::count_if(p.begin(), p.end(), [&](double x) { return x <= t; })) /
           static_cast<double>(std::max<std::size_t>(1, p.size()));
  };
  fmt::print("calibration on the independent queries: {} member p-values, share <= 0.01 / 0.05 / 0.1: {:.4f} / {:.4f} / "
             "{:.4f}; {} unit p-values: {:.4f} / {:.4f} / {:.4f}\n",
             unrelated_member_p.size(), share(unrelated_member_p, 0.01), share(unrelated_member_p, 0.05),
             share(unrelated_member_p, 0.1), unrelated_unit_p.size(), share(unrelated_unit_p, 0.01),
             share(unrelated_unit_p, 0.05), share(unrelated_unit_p, 0.1));
  if (!o.keep) fs::remove_all(o.work);
  return 0;
}
