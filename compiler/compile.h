// The one way a rule is compiled: rule text, a rule file (and the name of one of its rules), or a
// token sequence in; the IR before and after the passes, the canonical text and hash, and the
// warnings out. Torch-free and CLI-free: nosc, nos-train, nos-bench, the search and the export
// (compiler/emit) all call it; nothing outside compiler/ lowers or optimizes a rule itself.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/ir.h"
#include "compiler/passes.h"
#include "dsl/ast.h"
#include "dsl/diagnostic.h"
#include "dsl/tokens.h"

namespace nos::compiler {

// Where a rule comes from.
struct RuleSource {
  enum class Kind { Text, File, Tokens };
  Kind kind = Kind::Text;
  std::string value;  // the rule's text, the file's path, or the token sequence
  std::string name;   // Kind::File only: which rule of the file (needed when it holds several)

  static RuleSource text(std::string text);
  static RuleSource file(std::string path, std::string name = {});
  static RuleSource tokens(std::string tokens);
  // The tools' `--rule X`: an existing path, or any name ending in .dsl, is a file (a missing file
  // must be reported as missing, not parsed as text); anything else is the rule's text.
  static RuleSource file_or_text(std::string value);

  friend bool operator==(const RuleSource&, const RuleSource&) = default;
};

// A rule as parsed, before compiling: its syntax tree, the text it came from, its token form.
struct ParsedRule {
  dsl::Rule rule;
  std::shared_ptr<const dsl::Source> source;
  std::optional<dsl::TokenSequence> tokens;  // as given, or when the rule fits the token form
};

struct CompileOptions {
  bool trace = false;            // keep the function after every pass (nosc explain)
  bool check_non_finite = true;  // probe whether the rule can only produce NaN/inf (a few ms)
};

struct CompiledRule {
  std::string name;            // the rule's name in its file; empty for an anonymous rule
  std::string text;            // the rule as written, in canonical layout, without its name
  std::string canonical_text;  // the optimized rule printed back, without its name: the readable
                               // identity stored beside the hash
  std::uint64_t hash = 0;      // ir::canonical_hash(optimized): equal for rules that compute the same
  ir::Function lowered;        // ir::lower(rule): before the passes
  ir::Function optimized;      // ir::optimize(lowered)
  std::vector<ir::PassRecord> trace;         // after each pass, with CompileOptions::trace
  std::optional<dsl::TokenSequence> tokens;  // ParsedRule::tokens
  std::optional<std::string> non_finite;     // why the rule can only produce NaN/inf, when it can
  std::vector<dsl::Diagnostic> diagnostics;  // warnings (the non-finite verdict), placed in the rule

  std::string hash_hex() const;      // 16 hex digits
  std::string display() const;       // "name: text", or the text alone
  std::string display_name() const;  // the name, or "<anonymous>"
};

// Every rule of the source: one for text and tokens, all of a file's (or the one named). Throws
// dsl::Error for every mistake in the input: a syntax error (with file:line:col), a file that
// cannot be read, a name the file lacks.
std::vector<ParsedRule> parse(const RuleSource& source);

CompiledRule compile(const ParsedRule& parsed, const CompileOptions& options = {});
std::vector<CompiledRule> compile_all(const RuleSource& source, const CompileOptions& options = {});
// Exactly one rule: throws dsl::Error when a file holds several and the source names none.
CompiledRule compile_one(const RuleSource& source, const CompileOptions& options = {});
// Shorthand for compile_one(RuleSource::text(text)), e.g. for built-in rules.
CompiledRule compile_text(std::string_view text, const CompileOptions& options = {});

std::string display_name(const dsl::Rule& rule);  // the rule's name, or "<anonymous>"

}  // namespace nos::compiler
