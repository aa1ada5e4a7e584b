#include "dsl/parser.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <system_error>

#include "dsl/lexer.h"
#include "dsl/printer.h"

namespace nos::dsl {
namespace {

// Beyond this the input is not a rule anyone wrote, and every later stage (printer, lowering,
// the shared_ptr destructor) recurses over the tree: both the parser's recursion and the height of
// the tree it builds are capped, so no input can exhaust the stack.
constexpr int kMaxDepth = 256;

constexpr std::string_view kWith = "with";

std::string where(const SourceRange& range) {
  return "line " + std::to_string(range.line) + ", column " + std::to_string(range.column);
}

SourceRange name_range(const SourceRange& range, std::size_t length) {
  SourceRange r = range;
  r.length = static_cast<std::uint32_t>(length);
  return r;
}

// The spelling a call takes, for messages: exp(x), clip(x, y).
std::string call_form(const FunctionInfo& f) {
  std::string form = std::string(f.name) + "(x";
  if (f.arity > 1) form += ", y";
  return form + ")";
}

// A constant expression has no operand and no random draw: the delta of div must be one, because
// it becomes an immediate of the kernel.
bool is_constant(const Expr& e) {
  switch (e.kind) {
    case Expr::Kind::Number:
    case Expr::Kind::Constant: return true;
    case Expr::Kind::Operand: return false;
    case Expr::Kind::Call:
      if (info(e.fn).extra == Extra::Uniform) return false;
      return std::all_of(e.args.begin(), e.args.end(), [](const ExprPtr& a) { return is_constant(*a); });
  }
  return false;
}

// A parsed expression and the height of its tree, which kMaxDepth bounds.
struct Node {
  ExprPtr expr;
  int height;
};

class Parser {
 public:
  explicit Parser(std::shared_ptr<const Source> source) : source_(std::move(source)), tokens_(lex(source_)) {}

  Module module() {
    Module m;
    m.source = source_;
    m.rules.push_back(rule());
    for (;;) {
      if (at(TokenKind::End)) break;
      if (at(TokenKind::Semicolon)) {
        take();
        if (at(TokenKind::End)) break;
      } else if (!starts_named_rule()) {
        trailing_garbage();
      }
      Rule next = rule();
      for (const Rule& earlier : m.rules)
        if (!next.name.empty() && earlier.name == next.name)
          error(name_range(next.range, next.name.size()),
                "duplicate rule name '" + next.name + "' (first defined at " + where(earlier.range) + ")");
      m.rules.push_back(std::move(next));
    }
    return m;
  }

 private:
  // ---- rules -----------------------------------------------------------------------------------

  Rule rule() {
    Rule r;
    const Token& first = peek();
    if (starts_named_rule()) {
      const Token& name = take();
      if (name.text == kWith) error(name.range, "'with' is a keyword and cannot name a rule");
      r.name = std::string(name.text);
      take();  // ':'
    }
    free_names_.clear();
    r.body = expr().expr;
    has_with_ = false;
    if (at(TokenKind::Name) && peek().text == kWith) {
      take();
      has_with_ = true;
      with_clause(r);
    }
    resolve_names(r);
    r.range = span(first.range, tokens_[pos_ - 1].range);
    return r;
  }

  void with_clause(Rule& r) {
    do {
      const Token& name = peek();
      if (!at(TokenKind::Name)) error(name.range, expected("a name to bind after " + describe(tokens_[pos_ - 1]), name));
      take();
      if (name.text == kWith) error(name.range, "'with' is a keyword and cannot be bound");
      if (!at(TokenKind::Equals)) error(peek().range, expected("'=' after " + describe(name), peek()));
      take();
      auto [value, value_range] = binding_value(name);
      for (const Binding& earlier : r.bindings)
        if (earlier.name == name.text)
          error(name.range, "duplicate binding '" + earlier.name + "' (first bound at " + where(earlier.range) + ")");
      if (!find_setting(name.text)) {
        if (find_operand(name.text))
          error(name.range, "'" + std::string(name.text) + "' is an operand; a `with` name cannot shadow it");
        if (find_function(name.text))
          error(name.range, "'" + std::string(name.text) + "' is a function; a `with` name cannot shadow it");
      }
      r.bindings.push_back({std::string(name.text), value, span(name.range, value_range)});
    } while (at(TokenKind::Comma) && (take(), true));
    for (const Binding& binding : r.bindings)
      if (const SettingInfo* s = find_setting(binding.name)) r.settings.*s->field = binding.value;
  }

  // NUMBER, '-' NUMBER, or on/off/true/false for switches; checked against the setting's range.
  std::pair<float, SourceRange> binding_value(const Token& name) {
    const SettingInfo* setting = find_setting(name.text);
    bool is_switch = setting && setting->is_switch;
    std::string quoted = "'" + std::string(name.text) + "'";
    const Token& first = peek();
    float value;
    SourceRange range = first.range;
    if (at(TokenKind::Name)) {
      std::string_view word = first.text;
      bool on = word == "on" || word == "true", off = word == "off" || word == "false";
      if (!is_switch || !(on || off))
        error(first.range, quoted + (is_switch ? " is a switch: on or off" : " takes a number") + ", got " +
                               describe(first));
      take();
      value = on ? 1.0f : 0.0f;
    } else {
      bool negative = at(TokenKind::Minus);
      if (negative) take();
      const Token& number = peek();
      if (!at(TokenKind::Number))
        error(number.range, expected("a value for " + quoted + (is_switch ? ": on or off" : ": a number"), number));
      take();
      value = negative ? -number.number : number.number;
      range = span(first.range, number.range);
      if (is_switch && value != 0.0f && value != 1.0f)
        error(range, quoted + " is a switch: on or off, got " + format_number(value));
      if (is_switch) value = value == 1.0f ? 1.0f : 0.0f;  // -0 would print as `off` and come back as +0
    }
    if (setting && !(value >= setting->min && value <= setting->max))
      error(range, quoted + " must be between " + format_number(setting->min) + " and " +
                       format_number(setting->max) + ", got " + format_number(value));
    return {value, range};
  }

  // Names that are neither vocabulary nor settings must be named constants of the `with` clause,
  // which comes after them in the text; and every named constant must be used, since an unused one
  // is almost always a misspelled setting.
  void resolve_names(const Rule& r) {
    for (const Token* use : free_names_) {
      bool bound = std::any_of(r.bindings.begin(), r.bindings.end(),
                               [&](const Binding& b) { return b.name == use->text; });
      if (!bound) error(use->range, unknown_name(use->text, false));
    }
    for (const Binding& binding : r.bindings) {
      if (find_setting(binding.name)) continue;
      bool used = std::any_of(free_names_.begin(), free_names_.end(),
                              [&](const Token* use) { return use->text == binding.name; });
      if (used) continue;
      std::string message = "'" + binding.name + "' is not a setting and the rule does not use it";
      if (auto near = nearest_name(binding.name); near && find_setting(*near))
        message += "; did you mean '" + std::string(*near) + "'?";
      error(name_range(binding.range, binding.name.size()), message);
    }
  }

  // ---- expressions -----------------------------------------------------------------------------

  Node expr() {
    Node left = term();
    while (at(TokenKind::Plus) || at(TokenKind::Minus)) {
      const Token& op = take();
      left = binary(op, left, term());
    }
    return left;
  }

  Node term() {
    Node left = unary();
    while (at(TokenKind::Star) || at(TokenKind::Slash)) {
      const Token& op = take();
      left = binary(op, left, unary());
    }
    return left;
  }

  // Every cycle of the recursion (parentheses, calls, '-', '^') passes through here.
  Node unary() {
    DepthGuard guard(*this);
    if (!at(TokenKind::Minus)) return power();
    const Token& minus = take();
    Node operand = unary();
    return call(Fn::Neg, {operand}, span(minus.range, operand.expr->range), minus);
  }

  // The exponent is a `unary`, so 2^-1 parses, and 2^3^2 is 2^(3^2).
  Node power() {
    Node base = primary();
    if (!at(TokenKind::Caret)) return base;
    const Token& op = take();
    return binary(op, base, unary());
  }

  Node primary() {
    const Token& token = peek();
    switch (token.kind) {
      case TokenKind::Number:
        take();
        return {Expr::make_number(token.number, token.range), 1};
      case TokenKind::LParen: {
        take();
        ++open_parens_;
        Node inner = expr();
        expect_close(token, "')' or an operator");
        --open_parens_;
        return inner;
      }
      case TokenKind::Name: break;
      default: error(token.range, expected_operand(token));
    }
    if (token.text == kWith) error(token.range, expected_operand(token));
    if (peek(1).kind == TokenKind::LParen) return function_call();
    take();
    if (const OperandInfo* operand = find_operand(token.text)) return {Expr::make_operand(operand, token.range), 1};
    if (const FunctionInfo* f = find_function(token.text))
      error(token.range, "'" + std::string(f->name) + "' is a function; call it as " + call_form(*f));
    if (!find_setting(token.text)) {
      if (find_token(Slot::Unary, token.text)) error(token.range, unknown_name(token.text, false));
      free_names_.push_back(&token);
    }
    return {Expr::make_constant(std::string(token.text), token.range), 1};
  }

  Node function_call() {
    const Token& name = take();
    const Token& open = take();
    const FunctionInfo* f = find_function(name.text);
    if (!f) {
      if (find_operand(name.text)) error(name.range, "'" + std::string(name.text) + "' is an operand, not a function");
      error(name.range, unknown_name(name.text, true));
    }
    std::vector<Node> args;
    if (!at(TokenKind::RParen)) {
      ++open_parens_;
      for (;;) {
        args.push_back(expr());
        if (!at(TokenKind::Comma)) break;
        take();
      }
      expect_close(open, "',' or ')' in the call of " + std::string(f->name));
      --open_parens_;
    } else {
      take();
    }
    SourceRange range = span(name.range, tokens_[pos_ - 1].range);
    int n = static_cast<int>(args.size());
    bool takes_delta = f->extra == Extra::Delta;
    if (n != f->arity && !(takes_delta && n == f->arity + 1)) {
      std::string count = std::to_string(f->arity) + (takes_delta ? " or " + std::to_string(f->arity + 1) : "");
      bool plural = f->arity > 1 || takes_delta;
      error(range, std::string(f->name) + " takes " + count + (plural ? " arguments" : " argument") + ", got " +
                       std::to_string(n));
    }
    if (takes_delta && n == f->arity + 1 && !is_constant(*args.back().expr))
      error(args.back().expr->range, "the delta of " + std::string(f->name) +
                                         " (its last argument) must be constant: numbers and `with` names");
    return call(f->fn, std::move(args), range, name);
  }

  Node binary(const Token& op, const Node& left, const Node& right) {
    return call(find_infix(op.text)->fn, {left, right}, span(left.expr->range, right.expr->range), op);
  }

  Node call(Fn fn, std::vector<Node> args, SourceRange range, const Token& at_token) {
    int height = 0;
    std::vector<ExprPtr> exprs;
    for (Node& arg : args) {
      height = std::max(height, arg.height);
      exprs.push_back(std::move(arg.expr));
    }
    if (height + 1 > kMaxDepth) error(at_token.range, "expression nested too deeply");
    return {Expr::make_call(fn, std::move(exprs), range), height + 1};
  }

  void expect_close(const Token& open, const std::string& what) {
    if (at(TokenKind::RParen)) {
      take();
      return;
    }
    // At the end of the rule the real mistake is the '(' itself, so point there.
    if (at(TokenKind::End) || at(TokenKind::Semicolon)) error(open.range, "'(' is never closed");
    error(peek().range, expected(what, peek()));
  }

  // ---- messages --------------------------------------------------------------------------------

  std::string expected(const std::string& what, const Token& found) const {
    if (found.kind == TokenKind::End) return "expected " + what + ", but the rule ends here";
    return "expected " + what + ", found " + describe(found);
  }

  std::string expected_operand(const Token& found) const {
    if (found.kind == TokenKind::End && pos_ == 0) return "empty rule: expected an expression";
    if (found.kind == TokenKind::RParen && open_parens_ == 0) return "unmatched ')'";
    const Token* previous = pos_ > 0 ? &tokens_[pos_ - 1] : nullptr;
    bool after_operator = previous && previous->kind != TokenKind::Semicolon && previous->kind != TokenKind::Colon;
    return expected(after_operator ? "an operand after " + describe(*previous) : "an expression", found);
  }

  std::string unknown_name(std::string_view name, bool called) const {
    // Token-form spellings like clip4 are a likely slip when moving from tokens to text.
    if (const TokenInfo* t = find_token(Slot::Unary, name); t && t->param)
      return "'" + std::string(name) + "' is a token-form name; in text write " + std::string(info(t->fn).name) +
             "(x, " + format_number(*t->param) + ")";
    std::string message = "unknown name '" + std::string(name) + "'";
    auto near = nearest_name(name);
    if (near && *near != name && (!called || find_function(*near))) message += "; did you mean '" + std::string(*near) + "'?";
    return message;
  }

  void trailing_garbage() {
    const Token& token = peek();
    if (token.kind == TokenKind::RParen) error(token.range, "unmatched ')'");
    std::string what = has_with_ ? "',', ';' or the end of the rule" : "an operator, ';' or the end of the rule";
    error(token.range, expected(what, token));
  }

  [[noreturn]] void error(const SourceRange& range, std::string message) const {
    fail(source_, range, std::move(message));
  }

  // ---- token stream ----------------------------------------------------------------------------

  const Token& peek(std::size_t ahead = 0) const { return tokens_[std::min(pos_ + ahead, tokens_.size() - 1)]; }
  bool at(TokenKind kind) const { return peek().kind == kind; }
  const Token& take() {
    const Token& token = peek();
    if (pos_ + 1 < tokens_.size()) ++pos_;
    return token;
  }
  bool starts_named_rule() const { return at(TokenKind::Name) && peek(1).kind == TokenKind::Colon; }

  struct DepthGuard {
    Parser& parser;
    explicit DepthGuard(Parser& p) : parser(p) {
      if (++parser.depth_ > kMaxDepth) parser.error(parser.peek().range, "expression nested too deeply");
    }
    ~DepthGuard() { --parser.depth_; }
  };

  std::shared_ptr<const Source> source_;
  std::vector<Token> tokens_;
  std::size_t pos_ = 0;
  int depth_ = 0;
  int open_parens_ = 0;
  bool has_with_ = false;
  std::vector<const Token*> free_names_;  // uses of names the `with` clause must bind
};

[[noreturn]] void fail_without_place(std::string message) {
  throw Error(Diagnostic{Severity::Error, nullptr, {}, std::move(message)});
}

}  // namespace

Module parse_module(std::shared_ptr<const Source> source) { return Parser(std::move(source)).module(); }

Module parse_file(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    fail_without_place("cannot open '" + path + "': " + std::make_error_code(std::errc::is_a_directory).message());
  errno = 0;
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (!file) fail_without_place("cannot open '" + path + "': " + std::generic_category().message(errno));
  auto source = std::make_shared<Source>();
  source->name = path;
  char buffer[65536];
  std::size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, file)) > 0) source->text.append(buffer, n);
  bool failed = std::ferror(file);
  int read_errno = errno;
  std::fclose(file);
  if (failed) fail_without_place("cannot read '" + path + "': " + std::generic_category().message(read_errno));
  return parse_module(std::move(source));
}

Rule parse_rule(std::string_view text, std::string source_name) {
  auto source = std::make_shared<Source>(Source{std::move(source_name), std::string(text)});
  Module m = parse_module(source);
  if (m.rules.size() > 1) fail(source, m.rules[1].range, "expected one rule, found a second one");
  return std::move(m.rules.front());
}

}  // namespace nos::dsl
