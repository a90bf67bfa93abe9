#pragma once
// Untrusted text (tensor names from a safetensors header, model_type from config.json, paths,
// tokenizer pieces, parser messages quoting the input) made safe for the sinks that show it. A name
// may hold ESC/OSC/BEL sequences that drive a terminal, newlines that forge lines of a table or of
// the one-line error, bytes that are not UTF-8, or Markdown/HTML that a renderer would act on.
// Every sink escapes what it prints: the terminal and the error line with printable(), report.md
// with markdown_text() (report.html escapes its own).
#include <string>
#include <string_view>

namespace lineage {

// `text` with every control character (C0, DEL, C1), line or paragraph separator and bidirectional
// override written as an escape (\n, \t, \x1b, \u{202e}, ...), and every byte that is not part of
// valid UTF-8 as \xNN. Printable UTF-8 passes unchanged; a backslash stays a backslash.
[[nodiscard]] std::string printable(std::string_view text);

// printable(text) that Markdown shows as it is: HTML's < > & as entities, and the characters that
// start emphasis, code, links, tables or escapes (\ ` * _ [ ] |) escaped with a backslash.
[[nodiscard]] std::string markdown_text(std::string_view text);

// A fence of backticks longer than any run of backticks in `text` (at least three), so that a
// fenced code block of `text` cannot be closed from inside it.
[[nodiscard]] std::string markdown_fence(std::string_view text);

}  // namespace lineage
