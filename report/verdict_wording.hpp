#pragma once
// The verdict's wording, shared by every rendering (terminal, HTML, Markdown) so that they say the
// same thing in the same words.
#include <string>

namespace lineage {

// "Verdict: derived (global p = 8e-300, family-wise α = 0.01)"
std::string verdict_headline(const std::string& label, double p_global, double alpha);

// What the label means, in one sentence for readers who do not know the statistics.
std::string verdict_meaning(const std::string& label);

}  // namespace lineage
