#include "dsl/parser.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>

#include "dsl/lexer.h"
#include "dsl/printer.h"
#include "dsl/source_file.h"

namespace nos::dsl {
namespace {

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

// Beyond kMaxHeight (ast.h) the input is not a rule anyone wrote, and every later stage (printer,
// lowering, the shared_ptr destructor) recurses over the tree: both the parser's recursion and the
// height of the tree it builds are capped, so no input can exhaust the stack.
//
// The height counted is the one a node can have once lowered, optimized and printed back from the
// IR (compiler/printer.h's to_text), so that whatever the parser accepts, `nosc check` prints as
// text the parser accepts again. A leaf prints as itself, except that an operand prints as its
// definition (adam is m / sqrt(v)) and a `with` constant may be negative (-2); a folded constant
// prints no higher than the least that folds to it (compiler/printer.cpp's number()); div may print
// its delta as a third argument. Passes never make a tree higher (simplify's rewrites keep or
// lower the height).
int operand_height(const OperandInfo& operand);

int printed_height(const Expr& e) {
  switch (e.kind) {
    case Expr::Kind::Number: return 1;
    case Expr::Kind::Constant: return 2;
    case Expr::Kind::Operand: return operand_height(*e.operand);
    case Expr::Kind::Call: break;
  }
  int height = info(e.fn).extra == Extra::Delta ? 2 : 0;
  for (const ExprPtr& arg : e.args) height = std::max(height, printed_height(*arg));
  return height + 1;
}

// Vocabulary definitions are written over primitive operands only, so computing the table parses
// them without coming back here for a derived operand.
int operand_height(const OperandInfo& operand) {
  if (operand.primitive) return *operand.primitive == Primitive::Eps ? 2 : 1;  // eps: sigma * eps
  static const std::unordered_map<std::string_view, int> heights = [] {
    std::unordered_map<std::string_view, int> table;
    for (const OperandInfo& o : operands())
      if (!o.primitive) table[o.name] = printed_height(*parse_rule(o.definition, "<definition>").body);
    return table;
  }();
  return heights.at(operand.name);
}

// The constant arguments whose value has a domain: the text form rejects a value outside it, as the
// `with` clause does for settings. div's delta shares the `delta` setting's range.
struct ArgumentDomain {
  Fn fn;
  std::size_t position;   // 0-based argument index
  const char* what;       // "the bound of clip (its second argument)"
  float min, max;
};

const ArgumentDomain* argument_domain(Fn fn, std::size_t position) {
  static const SettingInfo& delta = *find_setting("delta");
  static const ArgumentDomain kDomains[] = {
      {Fn::Clip, 1, "the bound of clip (its second argument)", 0, INFINITY},
      {Fn::Drop, 1, "the probability of drop (its second argument)", 0, 1},
      {Fn::Div, 2, "the delta of div (its last argument)", delta.min, delta.max},
  };
  for (const ArgumentDomain& d : kDomains)
    if (d.fn == fn && d.position == position) return &d;
  return nullptr;
}

// A parsed expression: its tree (shared when it is a named sub-expression), the tree's printed
// height (which kMaxHeight bounds), where it was written (for a name: the name, not its
// definition), and whether it is constant: no operand, no random draw. div's delta must be
// constant, because it becomes an immediate of the kernel.
struct Node {
  ExprPtr expr;
  int height;
  SourceRange range;
  bool constant;
};

// Name tables (rule names, bindings, definitions) are hash maps whose key comparisons are
// counted (ParseStats), so a test can see that checking n names costs O(n) comparisons.
struct CountingEqual {
  std::size_t* count;
  bool operator()(std::string_view a, std::string_view b) const {
    ++*count;
    return a == b;
  }
};
template <class Value>
using NameMap = std::unordered_map<std::string_view, Value, std::hash<std::string_view>, CountingEqual>;
using NameSet = std::unordered_set<std::string_view, std::hash<std::string_view>, CountingEqual>;

// A named sub-expression `name = expr;` of the rule being parsed.
struct Definition {
  Node node;
  SourceRange name_range;
  bool used = false;
};

// A constant argument to check against its domain once the `with` clause has given every name a
// value.
struct DomainCheck {
  const ArgumentDomain* domain;
  const Expr* value;
  SourceRange range;
};

class Parser {
 public:
  explicit Parser(std::shared_ptr<const Source> source) : source_(std::move(source)), tokens_(lex(source_)) {}

  std::size_t name_comparisons() const { return name_comparisons_; }

  Module module() {
    Module m;
    m.source = source_;
    m.rules.push_back(rule());
    // Rule names seen so far, for the duplicate check: a hash lookup, so a file of n rules is read
    // in O(n), not O(n^2).
    // (Keys view the rules' names in the source text, which outlives the parser's tables.)
    NameMap<std::size_t> rule_index = name_map<std::size_t>();
    if (!m.rules.back().name.empty()) rule_index.emplace(rule_name_text_, 0);
    for (;;) {
      if (at(TokenKind::End)) break;
      if (at(TokenKind::Semicolon)) {
        take();
        if (at(TokenKind::End)) break;
      } else if (!starts_named_rule()) {
        trailing_garbage();
      }
      if (m.rules.size() == static_cast<std::size_t>(kMaxRules))
        error(peek().range, "rule " + std::to_string(kMaxRules + 1) + " is one too many: a rule source holds at most " +
                                std::to_string(kMaxRules) + " rules");
      Rule next = rule();
      if (!next.name.empty()) {
        auto [it, fresh] = rule_index.emplace(rule_name_text_, m.rules.size());
        if (!fresh)
          error(name_range(next.range, next.name.size()), "duplicate rule name '" + next.name +
                                                             "' (first defined at " +
                                                             where(m.rules[it->second].range) + ")");
      }
      m.rules.push_back(std::move(next));
    }
    return m;
  }

 private:
  // ---- rules -----------------------------------------------------------------------------------

  Rule rule() {
    Rule r;
    const Token& first = peek();
    rule_name_text_ = {};
    if (starts_named_rule()) {
      const Token& name = take();
      if (name.text == kWith) error(name.range, "'with' is a keyword and cannot name a rule");
      r.name = std::string(name.text);
      rule_name_text_ = name.text;
      take();  // ':'
    }
    free_names_.clear();
    definitions_.clear();
    domain_checks_.clear();
    while (starts_definition()) definition();
    r.body = expr().expr;
    has_with_ = false;
    if (at(TokenKind::Name) && peek().text == kWith) {
      take();
      has_with_ = true;
      with_clause(r);
    }
    resolve_names(r);
    check_domains(r);
    r.range = span(first.range, tokens_[pos_ - 1].range);
    return r;
  }

  // name '=' expr ';': a named sub-expression. Its uses share its tree, so a rule that reuses a
  // result (as token-form rules do) stays as small in text as in tokens.
  void definition() {
    const Token& name = take();
    take();  // '='
    std::string quoted = "'" + std::string(name.text) + "'";
    if (name.text == kWith) error(name.range, "'with' is a keyword and cannot be defined");
    if (find_operand(name.text)) error(name.range, quoted + " is an operand; a definition cannot shadow it");
    if (find_function(name.text)) error(name.range, quoted + " is a function; a definition cannot shadow it");
    if (find_setting(name.text)) error(name.range, quoted + " is a setting; a definition cannot shadow it");
    if (auto earlier = definitions_.find(name.text); earlier != definitions_.end())
      error(name.range, "duplicate definition " + quoted + " (first defined at " + where(earlier->second.name_range) + ")");
    Node value = expr();
    if (!at(TokenKind::Semicolon)) error(peek().range, expected("an operator or ';' after the definition of " + quoted, peek()));
    take();
    if (at(TokenKind::End))
      error(peek().range, "the rule ends after the definition of " + quoted + ": expected the rule's expression");
    definitions_.emplace(name.text, Definition{std::move(value), name.range});
  }

  void with_clause(Rule& r) {
    NameMap<std::size_t> bound = name_map<std::size_t>();  // name -> index in r.bindings
    do {
      const Token& name = peek();
      if (!at(TokenKind::Name)) error(name.range, expected("a name to bind after " + describe(tokens_[pos_ - 1]), name));
      take();
      if (name.text == kWith) error(name.range, "'with' is a keyword and cannot be bound");
      if (!at(TokenKind::Equals)) error(peek().range, expected("'=' after " + describe(name), peek()));
      take();
      auto [value, value_range] = binding_value(name);
      if (auto earlier = bound.find(name.text); earlier != bound.end())
        error(name.range, "duplicate binding '" + std::string(name.text) + "' (first bound at " +
                              where(r.bindings[earlier->second].range) + ")");
      if (auto d = definitions_.find(name.text); d != definitions_.end())
        error(name.range, "'" + std::string(name.text) + "' is a named sub-expression (defined at " +
                              where(d->second.name_range) + "); a `with` name cannot shadow it");
      if (!find_setting(name.text)) {
        if (find_operand(name.text))
          error(name.range, "'" + std::string(name.text) + "' is an operand; a `with` name cannot shadow it");
        if (find_function(name.text))
          error(name.range, "'" + std::string(name.text) + "' is a function; a `with` name cannot shadow it");
      }
      bound.emplace(name.text, r.bindings.size());
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
    NameSet bound(0, std::hash<std::string_view>(), CountingEqual{&name_comparisons_}), used = bound;
    for (const Binding& binding : r.bindings) bound.insert(binding.name);
    for (const Token* use : free_names_) {
      used.insert(use->text);
      if (bound.count(use->text)) continue;
      if (auto later = definitions_.find(use->text); later != definitions_.end())
        error(use->range, "'" + std::string(use->text) + "' is used before its definition (at " +
                              where(later->second.name_range) + ")");
      error(use->range, unknown_name(use->text, false));
    }
    // Definitions in source order, so the first unused one is the one reported.
    const Definition* unused = nullptr;
    for (const auto& [name, d] : definitions_)
      if (!d.used && (!unused || d.name_range.offset < unused->name_range.offset)) unused = &d;
    if (unused) {
      std::string_view name(source_->text.data() + unused->name_range.offset, unused->name_range.length);
      error(unused->name_range, "'" + std::string(name) + "' is defined but the rule does not use it");
    }
    for (const Binding& binding : r.bindings) {
      if (find_setting(binding.name)) continue;
      if (used.count(binding.name)) continue;
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
    return call(Fn::Neg, {operand}, span(minus.range, operand.range), minus);
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
        return {Expr::make_number(token.number, token.range), 1, token.range, true};
      case TokenKind::LParen: {
        take();
        ++open_parens_;
        Node inner = expr();
        expect_close(token, "')' or an operator");
        --open_parens_;
        inner.range = span(token.range, tokens_[pos_ - 1].range);
        return inner;
      }
      case TokenKind::Name: break;
      default: error(token.range, expected_operand(token));
    }
    if (token.text == kWith) error(token.range, expected_operand(token));
    if (peek(1).kind == TokenKind::LParen) return function_call();
    take();
    if (auto d = definitions_.find(token.text); d != definitions_.end()) {
      d->second.used = true;
      Node use = d->second.node;
      use.range = token.range;
      return use;
    }
    if (const OperandInfo* operand = find_operand(token.text))
      return {Expr::make_operand(operand, token.range), operand_height(*operand), token.range, false};
    if (const FunctionInfo* f = find_function(token.text))
      error(token.range, "'" + std::string(f->name) + "' is a function; call it as " + call_form(*f));
    if (!find_setting(token.text)) {
      if (find_token(Slot::Unary, token.text)) error(token.range, unknown_name(token.text, false));
      free_names_.push_back(&token);
    }
    return {Expr::make_constant(std::string(token.text), token.range), 2, token.range, true};
  }

  Node function_call() {
    const Token& name = take();
    const Token& open = take();
    const FunctionInfo* f = find_function(name.text);
    if (!f) {
      if (find_operand(name.text)) error(name.range, "'" + std::string(name.text) + "' is an operand, not a function");
      if (definitions_.count(name.text))
        error(name.range, "'" + std::string(name.text) + "' is a named sub-expression, not a function");
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
    if (takes_delta && n == f->arity + 1 && !args.back().constant)
      error(args.back().range, "the delta of " + std::string(f->name) +
                                   " (its last argument) must be constant: numbers and `with` names");
    if (f->extra == Extra::Uniform && n == f->arity && !args.back().constant)
      error(args.back().range, "the probability of " + std::string(f->name) +
                                   " (its second argument) must be constant: numbers and `with` names");
    // A constant argument with a domain is checked once the `with` clause has valued its names.
    for (std::size_t i = 0; i < args.size(); ++i)
      if (const ArgumentDomain* domain = argument_domain(f->fn, i); domain && args[i].constant)
        domain_checks_.push_back({domain, args[i].expr.get(), args[i].range});
    return call(f->fn, std::move(args), range, name);
  }

  Node binary(const Token& op, const Node& left, const Node& right) {
    return call(find_infix(op.text)->fn, {left, right}, span(left.range, right.range), op);
  }

  Node call(Fn fn, std::vector<Node> args, SourceRange range, const Token& at_token) {
    const FunctionInfo& f = info(fn);
    int height = f.extra == Extra::Delta ? 2 : 0;  // see printed_height
    bool constant = f.extra != Extra::Uniform;
    std::vector<ExprPtr> exprs;
    for (Node& arg : args) {
      height = std::max(height, arg.height);
      constant = constant && arg.constant;
      exprs.push_back(std::move(arg.expr));
    }
    if (height + 1 > kMaxHeight) error(at_token.range, "expression nested too deeply");
    return {Expr::make_call(fn, std::move(exprs), range), height + 1, range, constant};
  }

  // ---- domains of constant arguments -----------------------------------------------------------

  void check_domains(const Rule& r) {
    if (domain_checks_.empty()) return;
    std::unordered_map<const Expr*, float> values;  // memo: constants may share definitions
    NameMap<float> bound = name_map<float>();
    for (const Binding& b : r.bindings) bound.emplace(b.name, b.value);
    for (const DomainCheck& check : domain_checks_) {
      float value = constant_value(*check.value, r, bound, values);
      const ArgumentDomain& d = *check.domain;
      if (value >= d.min && value <= d.max) continue;
      std::string bounds = std::isinf(d.max) ? "at least " + format_number(d.min)
                                             : "between " + format_number(d.min) + " and " + format_number(d.max);
      error(check.range, std::string(d.what) + " must be " + bounds + ", got " + format_number(value));
    }
  }

  // The value of a constant expression (Node::constant), as the lowering will fold it.
  float constant_value(const Expr& e, const Rule& r, const NameMap<float>& bound,
                       std::unordered_map<const Expr*, float>& memo) const {
    switch (e.kind) {
      case Expr::Kind::Number: return e.number;
      case Expr::Kind::Constant: {
        if (auto b = bound.find(e.name); b != bound.end()) return b->second;
        return r.settings.*(find_setting(e.name)->field);
      }
      case Expr::Kind::Operand: break;
      case Expr::Kind::Call: {
        if (auto known = memo.find(&e); known != memo.end()) return known->second;
        float arg[3] = {0, 0, info(e.fn).extra == Extra::Delta ? r.settings.delta : 0.0f};
        for (std::size_t i = 0; i < e.args.size() && i < 3; ++i) arg[i] = constant_value(*e.args[i], r, bound, memo);
        return memo[&e] = info(e.fn).eval(arg[0], arg[1], arg[2]);
      }
    }
    throw std::logic_error("a constant argument of a rule depends on an operand");
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

  template <class Value>
  NameMap<Value> name_map() {
    return NameMap<Value>(0, std::hash<std::string_view>(), CountingEqual{&name_comparisons_});
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
  bool starts_definition() const { return at(TokenKind::Name) && peek(1).kind == TokenKind::Equals; }

  struct DepthGuard {
    Parser& parser;
    explicit DepthGuard(Parser& p) : parser(p) {
      if (++parser.depth_ > kMaxHeight) parser.error(parser.peek().range, "expression nested too deeply");
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
  std::size_t name_comparisons_ = 0;
  std::string_view rule_name_text_;                                // the name of the rule last read
  NameMap<Definition> definitions_ = name_map<Definition>();       // of the rule being parsed
  std::vector<DomainCheck> domain_checks_;                        // of the rule being parsed
};

}  // namespace

Module parse_module(std::shared_ptr<const Source> source, ParseStats* stats) {
  Parser parser(std::move(source));
  Module m = parser.module();
  if (stats) stats->name_comparisons = parser.name_comparisons();
  return m;
}

Module parse_file(const std::string& path) {
  auto source = std::make_shared<Source>();
  source->name = path;
  source->text = read_file(path, kMaxSourceBytes, "rule file");
  return parse_module(std::move(source));
}

Rule parse_rule(std::string_view text, std::string source_name) {
  auto source = std::make_shared<Source>(Source{std::move(source_name), std::string(text)});
  Module m = parse_module(source);
  if (m.rules.size() > 1) fail(source, m.rules[1].range, "expected one rule, found a second one");
  return std::move(m.rules.front());
}

}  // namespace nos::dsl
