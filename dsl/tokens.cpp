#include "dsl/tokens.h"

#include <array>
#include <charconv>
#include <map>
#include <stdexcept>
#include <unordered_map>

#include "dsl/lexer.h"

namespace nos::dsl {
namespace {

// The token form's own structure (DSL.md: `op1 op2 u1 u2 b`), named in messages.
constexpr std::string_view kPositionNames[5] = {"op1", "op2", "u1", "u2", "b"};

std::uint16_t Group::*const kFields[5] = {&Group::op1, &Group::op2, &Group::u1, &Group::u2, &Group::b};

std::size_t slot_size(Slot slot) { return tokens(slot).size(); }

std::uint16_t token_id(Slot slot, const TokenInfo* token) {
  return static_cast<std::uint16_t>(token - tokens(slot).data());
}

const char* slot_noun(Slot slot) {
  switch (slot) {
    case Slot::Operand: return "an operand";
    case Slot::Unary: return "a unary token";
    case Slot::Binary: return "a binary token";
  }
  return "";
}

// The literal operands (`1`, `2`) are Number nodes in the tree, like literals the parser reads.
std::optional<float> literal_value(const TokenInfo& token) {
  float value;
  std::string_view s = token.spelling;
  auto [end, error] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (error != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return value;
}

// o1, o2, ...: 1-based group number, or 0 when `word` is not spelled that way.
int group_reference(std::string_view word) {
  if (word.size() < 2 || word[0] != 'o' || word[1] == '0') return 0;
  int k = 0;
  auto [end, error] = std::from_chars(word.data() + 1, word.data() + word.size(), k);
  if (end != word.data() + word.size()) return 0;
  return error == std::errc() ? k : INT32_MAX;
}

std::string group_shape() { return "op1 op2 u1 u2 b"; }

class TokenParser {
 public:
  explicit TokenParser(std::shared_ptr<const Source> source) : source_(std::move(source)) {}

  // Words are gathered into segments (ended by ';', a line break or the end) and each segment is
  // checked to hold whole groups before its words are read, so a missing token is reported as a
  // short group rather than as the next token sitting in the wrong position.
  TokenSequence run() {
    std::vector<Token> words = lex(source_);
    std::vector<const Token*> segment;
    for (const Token& word : words) {
      bool new_line = !segment.empty() && word.range.line != segment.back()->range.line;
      if (word.kind == TokenKind::End || word.kind == TokenKind::Semicolon || new_line) {
        read_segment(segment);
        segment.clear();
      }
      if (word.kind == TokenKind::End) break;
      if (word.kind == TokenKind::Semicolon) continue;
      if (word.kind != TokenKind::Name && word.kind != TokenKind::Number)
        fail(source_, word.range, "unexpected " + describe(word) + " in the token form: expected groups of 5 tokens " +
                                      group_shape());
      segment.push_back(&word);
    }
    if (sequence_.empty())
      fail(source_, words.back().range, "empty token sequence: expected groups of 5 tokens " + group_shape());
    return sequence_;
  }

 private:
  void read_segment(const std::vector<const Token*>& segment) {
    std::size_t whole = segment.size() / 5 * 5, rest = segment.size() - whole;
    if (rest > 0)
      fail(source_, span(segment[whole]->range, segment.back()->range),
           "group " + std::to_string(sequence_.size() + whole / 5 + 1) + " has " + std::to_string(rest) + " token" +
               (rest == 1 ? "" : "s") + ", expected 5: " + group_shape());
    for (std::size_t i = 0; i < whole; i += 5) {
      if (sequence_.size() == static_cast<std::size_t>(kMaxGroups))
        fail(source_, span(segment[i]->range, segment[i + 4]->range),
             "group " + std::to_string(kMaxGroups + 1) + " is one too many: a token rule has at most " +
                 std::to_string(kMaxGroups) + " groups");
      Group group;
      for (int position = 0; position < 5; ++position) group[position] = resolve(*segment[i + position], position);
      sequence_.push_back(group);
    }
  }

  std::uint16_t resolve(const Token& word, int position) {
    Slot slot = kGroupSlots[position];
    int group = static_cast<int>(sequence_.size());
    std::string where = std::string(kPositionNames[position]) + " of group " + std::to_string(group + 1);
    if (const TokenInfo* token = find_token(slot, word.text)) return token_id(slot, token);
    std::string quoted = describe(word);
    if (slot == Slot::Operand) {
      if (int k = group_reference(word.text); k > 0) {
        if (k > group) {
          std::string usable = group == 0 ? "group 1 has none" : "group " + std::to_string(group + 1) + " can use o1" +
                                                                    (group > 1 ? " to o" + std::to_string(group) : "");
          fail(source_, word.range, quoted + " is not the result of an earlier group (" + usable + ")");
        }
        return static_cast<std::uint16_t>(slot_size(Slot::Operand) + k - 1);
      }
    }
    for (Slot other : {Slot::Operand, Slot::Unary, Slot::Binary})
      if (other != slot && find_token(other, word.text))
        fail(source_, word.range, quoted + " is " + slot_noun(other) + ", but " + where + " must be " + slot_noun(slot));
    std::string message = "unknown token " + quoted + " at " + where + ", which must be " + slot_noun(slot);
    if (auto near = nearest_name(word.text); near && find_token(slot, *near))
      message += "; did you mean '" + std::string(*near) + "'?";
    fail(source_, word.range, message);
  }

  std::shared_ptr<const Source> source_;
  TokenSequence sequence_;
};

// Greedy decomposition of a tree into groups, children before parents. Shared subtrees (the o_k of
// a sequence) become one group, found by node identity; so do equal subtrees written twice (the
// printer repeats a small shared call: (g + m) * (g + m)), found as a group with the same five
// tokens, which computes the same value (the same drop twice is one draw).
class Encoder {
 public:
  std::optional<TokenSequence> run(const Expr& root) {
    std::optional<Group> last;
    if (root.kind == Expr::Kind::Call) {
      last = group(root);
    } else if (auto op = operand(root)) {
      // The result of a sequence is always a binary function; keep(x, x) is x.
      last = Group{*op, *op, id_, id_, keep_};
    }
    if (!last) return std::nullopt;
    sequence_.push_back(*last);
    return sequence_;
  }

 private:
  std::optional<std::uint16_t> operand(const Expr& e) {
    switch (e.kind) {
      case Expr::Kind::Operand:
        if (const TokenInfo* t = find_token(Slot::Operand, e.operand->name); t && !literal_value(*t))
          return token_id(Slot::Operand, t);
        return std::nullopt;
      case Expr::Kind::Number:
        for (const TokenInfo& t : tokens(Slot::Operand))
          if (auto value = literal_value(t); value && same_float(*value, e.number)) return token_id(Slot::Operand, &t);
        return std::nullopt;
      case Expr::Kind::Constant: return std::nullopt;
      case Expr::Kind::Call: break;
    }
    if (auto found = groups_.find(&e); found != groups_.end()) return found->second;
    std::optional<Group> g = group(e);
    if (!g) return std::nullopt;
    std::array<std::uint16_t, 5> spelling{g->op1, g->op2, g->u1, g->u2, g->b};
    if (auto same = by_spelling_.find(spelling); same != by_spelling_.end()) return groups_[&e] = same->second;
    std::size_t id = slot_size(Slot::Operand) + sequence_.size();
    // The last group is still to come: beyond kMaxGroups the expression does not fit the form.
    if (sequence_.size() + 1 >= static_cast<std::size_t>(kMaxGroups)) return std::nullopt;
    sequence_.push_back(*g);
    groups_[&e] = by_spelling_[spelling] = static_cast<std::uint16_t>(id);
    return static_cast<std::uint16_t>(id);
  }

  // The unary token that `e` is an application of, e.g. clip(x, 0.0001) -> clip4. Never `id`:
  // to_rule drops it, so an explicit id(x) has no token spelling.
  std::optional<std::uint16_t> unary_token(const Expr& e) const {
    if (e.kind != Expr::Kind::Call || e.fn == Fn::Id) return std::nullopt;
    for (const TokenInfo& t : tokens(Slot::Unary)) {
      if (t.fn != e.fn) continue;
      bool fits = t.param ? e.args.size() == 2 && e.args[1]->kind == Expr::Kind::Number &&
                                same_float(e.args[1]->number, *t.param)
                          : e.args.size() == 1;
      if (fits) return token_id(Slot::Unary, &t);
    }
    return std::nullopt;
  }

  // One argument of a binary token: u(operand) or id(operand).
  std::optional<std::pair<std::uint16_t, std::uint16_t>> side(const Expr& e) {
    std::optional<std::uint16_t> u = unary_token(e), op = operand(u ? *e.args[0] : e);
    if (!op) return std::nullopt;
    return std::pair{u.value_or(id_), *op};
  }

  std::optional<Group> group(const Expr& e) {
    for (const TokenInfo& t : tokens(Slot::Binary)) {
      if (t.fn != e.fn || e.args.size() != 2) continue;
      auto left = side(*e.args[0]);
      auto right = left ? side(*e.args[1]) : std::nullopt;
      if (!right) return std::nullopt;
      return Group{left->second, right->second, left->first, right->first, token_id(Slot::Binary, &t)};
    }
    // A unary call that is not an argument of a binary one: u(x) = keep(u(x), x).
    std::optional<std::uint16_t> u = unary_token(e);
    if (!u) return std::nullopt;
    std::optional<std::uint16_t> op = operand(*e.args[0]);
    if (!op) return std::nullopt;
    return Group{*op, *op, *u, id_, keep_};
  }

  std::uint16_t id_ = token_id(Slot::Unary, find_token(Slot::Unary, info(Fn::Id).name));
  std::uint16_t keep_ = token_id(Slot::Binary, find_token(Slot::Binary, info(Fn::Keep).name));
  TokenSequence sequence_;
  std::unordered_map<const Expr*, std::uint16_t> groups_;
  std::map<std::array<std::uint16_t, 5>, std::uint16_t> by_spelling_;
};

}  // namespace

std::uint16_t Group::operator[](int position) const {
  if (position < 0 || position >= 5) throw std::out_of_range("group position " + std::to_string(position));
  return this->*kFields[position];
}

std::uint16_t& Group::operator[](int position) {
  if (position < 0 || position >= 5) throw std::out_of_range("group position " + std::to_string(position));
  return this->*kFields[position];
}

int choices(int group, int position) {
  Slot slot = kGroupSlots[position];
  return static_cast<int>(slot_size(slot)) + (slot == Slot::Operand ? group : 0);
}

std::string spell(int group, int position, std::uint16_t id) {
  Slot slot = kGroupSlots[position];
  if (id < slot_size(slot)) return std::string(tokens(slot)[id].spelling);
  if (slot == Slot::Operand && id - slot_size(slot) < static_cast<std::size_t>(group))
    return "o" + std::to_string(id - slot_size(slot) + 1);
  throw std::out_of_range("token id " + std::to_string(id) + " at " + std::string(kPositionNames[position]) +
                          " of group " + std::to_string(group + 1));
}

std::string print_tokens(const TokenSequence& tokens) {
  std::string out;
  for (std::size_t g = 0; g < tokens.size(); ++g)
    for (int position = 0; position < 5; ++position) {
      if (!out.empty()) out += ' ';
      out += spell(static_cast<int>(g), position, tokens[g][position]);
    }
  return out;
}

TokenSequence parse_tokens(std::shared_ptr<const Source> source) { return TokenParser(std::move(source)).run(); }

Rule to_rule(const TokenSequence& sequence, std::string name) {
  if (sequence.empty()) throw std::invalid_argument("to_rule: empty token sequence");
  if (sequence.size() > static_cast<std::size_t>(kMaxGroups))
    throw std::invalid_argument("to_rule: " + std::to_string(sequence.size()) + " groups, at most " +
                                std::to_string(kMaxGroups));
  std::vector<ExprPtr> results;
  for (std::size_t g = 0; g < sequence.size(); ++g) {
    // spell() validates every id, so a bad sequence fails here and not with a wild index below.
    for (int position = 0; position < 5; ++position) spell(static_cast<int>(g), position, sequence[g][position]);
    auto operand = [&](std::uint16_t id) -> ExprPtr {
      if (id >= slot_size(Slot::Operand)) return results[id - slot_size(Slot::Operand)];
      const TokenInfo& t = tokens(Slot::Operand)[id];
      if (auto value = literal_value(t)) return Expr::make_number(*value);
      return Expr::make_operand(t.operand);
    };
    auto apply = [](std::uint16_t id, ExprPtr x) -> ExprPtr {
      const TokenInfo& t = tokens(Slot::Unary)[id];
      if (t.fn == Fn::Id) return x;
      if (t.param) return Expr::make_call(t.fn, {std::move(x), Expr::make_number(*t.param)});
      return Expr::make_call(t.fn, {std::move(x)});
    };
    const Group& group = sequence[g];
    results.push_back(Expr::make_call(tokens(Slot::Binary)[group.b].fn,
                                      {apply(group.u1, operand(group.op1)), apply(group.u2, operand(group.op2))}));
  }
  Rule rule;
  rule.name = std::move(name);
  rule.body = results.back();
  return rule;
}

std::optional<TokenSequence> to_tokens(const Expr& expr) { return Encoder().run(expr); }

TokenSequence random_tokens(std::mt19937_64& rng, int groups) {
  if (groups < 1 || groups > kMaxGroups)
    throw std::invalid_argument("random_tokens: " + std::to_string(groups) + " groups, expected 1 to " +
                                std::to_string(kMaxGroups));
  TokenSequence sequence(static_cast<std::size_t>(groups));
  for (int g = 0; g < groups; ++g)
    for (int position = 0; position < 5; ++position)
      sequence[g][position] =
          static_cast<std::uint16_t>(std::uniform_int_distribution<int>(0, choices(g, position) - 1)(rng));
  return sequence;
}

}  // namespace nos::dsl
