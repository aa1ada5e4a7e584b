// libFuzzer entry point: any bytes, read as a rule file and as a token sequence. A dsl::Error that
// points inside the text is a fine answer; anything else (a crash, a sanitizer report, another
// exception, a parse that does not print back to itself) aborts and is a bug.
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

#include "dsl/parser.h"
#include "dsl/printer.h"
#include "dsl/tokens.h"

namespace {

using namespace nos::dsl;

void check(bool ok) {
  if (!ok) std::abort();
}

void check_error(const Error& e, const std::string& text) {
  const Diagnostic& d = e.diagnostic();
  check(!d.message.empty() && d.source && std::size_t{d.range.offset} + d.range.length <= text.size());
  check(!d.render().empty());
}

void check_rule_text(const Rule& rule) {
  std::string text = print(rule);
  Rule again = parse_rule(text, "<printed>");
  check(equal(again, rule) && print(again) == text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto source = std::make_shared<Source>(Source{"<fuzz>", std::string(reinterpret_cast<const char*>(data), size)});
  try {
    Module m = parse_module(source);
    std::string printed = print(m);
    Module again = parse_module(std::make_shared<Source>(Source{"<printed>", printed}));
    check(equal(m, again) && print(again) == printed);
    // Token sequences are DAGs whose tree can double with every group; the printer names what
    // they share, so any length is cheap to print.
    for (const Rule& rule : m.rules)
      if (auto tokens = to_tokens(*rule.body)) check_rule_text(to_rule(*tokens));
  } catch (const Error& e) {
    check_error(e, source->text);
  }
  try {
    TokenSequence tokens = parse_tokens(source);
    Rule rule = to_rule(tokens);
    check_rule_text(rule);
    auto back = to_tokens(*rule.body);
    check(back && equal(*to_rule(*back).body, *rule.body));
  } catch (const Error& e) {
    check_error(e, source->text);
  }
  return 0;
}
