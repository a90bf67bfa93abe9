// Untrusted text at the sinks (core/display_text): terminal and error-line escapes, invalid UTF-8,
// and Markdown that renders as the text it is (issue 18, defects 7 and 13).
#include <gtest/gtest.h>

#include <string>

#include "core/display_text.hpp"

namespace lineage {
namespace {

TEST(Printable, EscapesControlsSeparatorsAndBidiOverridesButKeepsPrintableUtf8) {
  EXPECT_EQ(printable("model.layers.0.mlp.up_proj.weight"), "model.layers.0.mlp.up_proj.weight");
  EXPECT_EQ(printable("d\xc3\xa9j\xc3\xa0 \xe2\x89\xa4 \xf0\x9f\x98\x80"), "d\xc3\xa9j\xc3\xa0 \xe2\x89\xa4 \xf0\x9f\x98\x80");
  // ESC [ 2 J clears a terminal; OSC ... BEL sets its title; a newline forges a line.
  EXPECT_EQ(printable("a\x1b[2Jb"), "a\\x1b[2Jb");
  EXPECT_EQ(printable("\x1b]0;owned\x07"), "\\x1b]0;owned\\x07");
  EXPECT_EQ(printable("row\nlayer 0  forged"), "row\\nlayer 0  forged");
  EXPECT_EQ(printable("tab\there\r"), "tab\\there\\r");
  EXPECT_EQ(printable(std::string("nul\0x", 5)), "nul\\x00x");
  EXPECT_EQ(printable("\x7f"), "\\x7f");
  EXPECT_EQ(printable("\xc2\x9b" "31m"), "\\u{009b}31m");                // C1 CSI
  EXPECT_EQ(printable("abc\xe2\x80\xae" "dcba"), "abc\\u{202e}dcba");        // right-to-left override
  EXPECT_EQ(printable("line\xe2\x80\xa8sep"), "line\\u{2028}sep");
}

TEST(Printable, EveryByteThatIsNotValidUtf8IsAnEscapedByte) {
  EXPECT_EQ(printable("\xff\xfe"), "\\xff\\xfe");
  EXPECT_EQ(printable("\xc3"), "\\xc3");                      // truncated sequence
  EXPECT_EQ(printable("\xc0\xaf"), "\\xc0\\xaf");             // overlong '/'
  EXPECT_EQ(printable("\xed\xa0\x80"), "\\xed\\xa0\\x80");    // a surrogate
  EXPECT_EQ(printable("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80");  // past U+10FFFF
  EXPECT_EQ(printable("ok\x80"), "ok\\x80");
  // Whatever the bytes, the result is valid UTF-8 without a control character: printable again
  // changes nothing but the backslashes it wrote, which it keeps.
  std::string all;
  for (int b = 0; b < 256; ++b) all.push_back(static_cast<char>(b));
  const std::string once = printable(all);
  EXPECT_EQ(printable(once), once);
  for (const char c : once) EXPECT_FALSE(static_cast<unsigned char>(c) < 0x20 || c == 0x7f);
}

TEST(MarkdownText, ShowsHtmlAndMarkdownAsText) {
  EXPECT_EQ(markdown_text("<script>alert(1)</script>"), "&lt;script&gt;alert(1)&lt;/script&gt;");
  EXPECT_EQ(markdown_text("a|b"), "a\\|b");
  EXPECT_EQ(markdown_text("[x](http://evil)"), "\\[x\\](http://evil)");
  EXPECT_EQ(markdown_text("*bold* _em_ `code` \\"), "\\*bold\\* \\_em\\_ \\`code\\` \\\\");
  EXPECT_EQ(markdown_text("A & B\n# heading"), "A &amp; B\\\\n# heading");
  EXPECT_EQ(markdown_fence("plain"), "```");
  EXPECT_EQ(markdown_fence("a ```` b `` c"), "`````");
}

}  // namespace
}  // namespace lineage
