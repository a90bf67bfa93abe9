#include "report/verdict_wording.hpp"

#include <fmt/format.h>

namespace lineage {

std::string verdict_headline(const std::string& label, double p_global, double alpha) {
  return fmt::format("Verdict: {} (global p = {:.3g}, family-wise α = {})", label, p_global, alpha);
}

std::string verdict_meaning(const std::string& label) {
  if (label == "identical") return "Model B's compared weights are bit for bit model A's.";
  if (label == "derived")
    return "Model B's weights share structure with model A's that unrelated models do not show: the evidence "
           "below rejects independence at the family-wise level.";
  if (label == "no evidence of derivation")
    return "Nothing compared scores beyond what unrelated models score; this holds for the invariances tested, "
           "not for every way a model can be disguised.";
  if (label == "inconclusive") return "The comparison could not decide; the notes say what was missing.";
  return "See the evidence lines.";
}

}  // namespace lineage
