#pragma once
// `lineage tokenizers A B -o DIR`: the vocabulary comparison of two tokenizers (no MPI). A and B
// are tokenizer.json files or directories holding one; writes DIR/tokenizers.json.
#include "app/command.hpp"

namespace lineage {

command add_tokenizers_command(CLI::App& parent);

}  // namespace lineage
