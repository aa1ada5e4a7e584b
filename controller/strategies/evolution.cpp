#include "controller/strategies/evolution.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "dsl/diagnostic.h"
#include "dsl/parser.h"

namespace nos::controller {
namespace {

constexpr OptionSpec kOptions[] = {
    {"batch", "20", "proposals per batch"},
    {"population", "100", "P: members kept (the newest P rewarded sequences)"},
    {"tournament", "10", "S: members drawn for each tournament; the best one is the parent"},
    {"groups", "2", "groups of the random sequences that fill the first population (a number or a schedule)"},
    {"max_groups", "4", "no add-group mutation beyond this many groups"},
    {"add_group", "0.1", "probability that a mutation appends a group"},
    {"remove_group", "0.1", "probability that a mutation removes a group"},
    {"warm_start", "", "comma-separated files whose rules (DSL text, or one .tokens sequence each) found the population"},
};

constexpr std::string_view kPositionNames[5] = {"op1", "op2", "u1", "u2", "b"};

int operand_tokens() { return dsl::choices(0, 0); }

std::string group_name(std::size_t g) { return "group " + std::to_string(g + 1); }

}  // namespace

std::vector<std::pair<std::string, dsl::TokenSequence>> read_warm_start(const std::string& path,
                                                                        std::vector<std::string>& skipped) {
  std::vector<std::pair<std::string, dsl::TokenSequence>> found;
  if (std::filesystem::path(path).extension() == ".tokens") {
    std::ifstream file(path, std::ios::binary);
    if (!file) throw OptionError("option 'warm_start': cannot read '" + path + "'");
    std::stringstream text;
    text << file.rdbuf();
    found.emplace_back(path, dsl::parse_tokens(std::make_shared<dsl::Source>(dsl::Source{path, text.str()})));
    return found;
  }
  dsl::Module module = dsl::parse_file(path);
  for (std::size_t i = 0; i < module.rules.size(); ++i) {
    const dsl::Rule& rule = module.rules[i];
    std::string name = path + ":" + (rule.name.empty() ? "rule " + std::to_string(i + 1) : rule.name);
    std::optional<dsl::TokenSequence> tokens = rule.bindings.empty() ? dsl::to_tokens(*rule.body) : std::nullopt;
    if (tokens)
      found.emplace_back(name, *tokens);
    else
      skipped.push_back(name);
  }
  return found;
}

EvolutionStrategy::Config EvolutionStrategy::parse(const Options& options) {
  options.check_known("evolution", kOptions);
  Config c;
  c.batch = static_cast<int>(options.get_int("batch", 20, 1, kMaxBatch));
  c.population = static_cast<int>(options.get_int("population", 100, 1, 1 << 24));
  c.tournament = static_cast<int>(options.get_int("tournament", 10, 1, 1 << 24));
  if (c.tournament > c.population)
    throw OptionError("option 'tournament': " + std::to_string(c.tournament) + " is larger than the population (" +
                      std::to_string(c.population) + ")");
  c.groups = GroupSchedule::parse(options.get_string("groups", "2"));
  c.max_groups = static_cast<int>(options.get_int("max_groups", std::max(4, c.groups.max_groups()), 1, kMaxGroups));
  if (c.max_groups < c.groups.max_groups())
    throw OptionError("option 'max_groups': " + std::to_string(c.max_groups) + " is below the groups option's " +
                      std::to_string(c.groups.max_groups()));
  c.add_group = options.get_double("add_group", 0.1, 0, 1);
  c.remove_group = options.get_double("remove_group", 0.1, 0, 1);
  if (c.add_group + c.remove_group > 1)
    throw OptionError("options 'add_group' + 'remove_group' exceed 1");
  std::string files = options.get_string("warm_start", "");
  std::vector<std::string> skipped;
  for (std::size_t start = 0; start < files.size();) {
    std::size_t comma = files.find(',', start);
    std::string path = files.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    start = comma == std::string::npos ? files.size() : comma + 1;
    if (path.empty()) continue;
    for (auto& [name, tokens] : read_warm_start(path, skipped)) {
      c.warm_start_names.push_back(name);
      c.warm_start.push_back(std::move(tokens));
    }
  }
  if (!files.empty() && c.warm_start.empty())
    throw OptionError("option 'warm_start': no rule in '" + files + "' fits the token form");
  return c;
}

StrategyInfo EvolutionStrategy::info() {
  return {"evolution", "regularized (aging) evolution: tournament selection, one mutation per child", kOptions,
          [](const Options& options, std::uint64_t seed) -> std::unique_ptr<Strategy> {
            return std::make_unique<EvolutionStrategy>(parse(options), seed);
          }};
}

EvolutionStrategy::EvolutionStrategy(Config config, std::uint64_t seed) : config_(std::move(config)), rng_(seed) {}

dsl::TokenSequence EvolutionStrategy::mutate(const dsl::TokenSequence& parent, const Config& config, Rng& rng,
                                             std::string& what) {
  dsl::TokenSequence child = parent;
  const std::size_t groups = parent.size();
  double u = rng.uniform();
  if (u < config.add_group && groups < static_cast<std::size_t>(config.max_groups)) {
    // b(u1(old result), u2(op2)): the child extends the parent's rule instead of discarding it.
    int g = static_cast<int>(groups);
    dsl::Group added;
    added.op1 = static_cast<std::uint16_t>(operand_tokens() + g - 1);
    for (int position = 1; position < 5; ++position)
      added[position] = static_cast<std::uint16_t>(rng.below(static_cast<std::uint64_t>(dsl::choices(g, position))));
    child.push_back(added);
    what = "add " + group_name(groups);
    return child;
  }
  if (u >= config.add_group && u < config.add_group + config.remove_group && groups > 1) {
    std::size_t removed = rng.below(groups);
    const std::uint16_t removed_id = static_cast<std::uint16_t>(operand_tokens() + removed);
    const std::uint16_t replacement = parent[removed].op1;  // an earlier operand: valid for every later group
    child.erase(child.begin() + static_cast<std::ptrdiff_t>(removed));
    for (std::size_t g = removed; g < child.size(); ++g)
      for (std::uint16_t* op : {&child[g].op1, &child[g].op2}) {
        if (*op == removed_id)
          *op = replacement;
        else if (*op > removed_id)
          --*op;
      }
    what = "remove " + group_name(removed);
    return child;
  }
  // Resample one token: uniform over the other valid values of a uniformly chosen position.
  std::size_t g = rng.below(groups);
  int position = static_cast<int>(rng.below(5));
  std::uint64_t n = static_cast<std::uint64_t>(dsl::choices(static_cast<int>(g), position));
  std::uint64_t other = rng.below(n - 1);
  if (other >= child[g][position]) ++other;
  child[g][position] = static_cast<std::uint16_t>(other);
  what = "resample " + std::string(kPositionNames[position]) + " of " + group_name(g);
  return child;
}

std::vector<Proposal> EvolutionStrategy::propose(int count) {
  std::vector<Proposal> batch;
  for (int i = 0; i < count; ++i) {
    Proposal p;
    p.index = proposed_;
    if (founders_ < static_cast<std::uint64_t>(config_.population) || population_.empty()) {
      // The first population: warm-start rules, then random sequences; also while no reward has
      // come back yet (an asynchronous search asking ahead).
      if (founders_ < config_.warm_start.size()) {
        p.tokens = config_.warm_start[founders_];
        p.origin = "warm start: " + config_.warm_start_names[founders_];
      } else {
        p.tokens = dsl::random_tokens(rng_.engine(), config_.groups.groups_at(static_cast<std::int64_t>(proposed_ / config_.batch)));
        p.origin = "random";
      }
      ++founders_;
    } else {
      // Tournament: S distinct members (a partial Fisher-Yates shuffle), the first best one wins.
      std::vector<std::size_t> order(population_.size());
      for (std::size_t k = 0; k < order.size(); ++k) order[k] = k;
      std::size_t draws = std::min(order.size(), static_cast<std::size_t>(config_.tournament));
      std::size_t winner = 0;
      for (std::size_t k = 0; k < draws; ++k) {
        std::swap(order[k], order[k + rng_.below(order.size() - k)]);
        if (k == 0 || population_[order[k]].reward > population_[winner].reward) winner = order[k];
      }
      const Proposal& parent = population_[winner].proposal;
      std::string what;
      p.tokens = mutate(parent.tokens, config_, rng_, what);
      p.parent = static_cast<std::int64_t>(parent.index);
      p.origin = "mutation of #" + std::to_string(parent.index) + ": " + what;
    }
    ++proposed_;
    batch.push_back(std::move(p));
  }
  return batch;
}

void EvolutionStrategy::observe(std::span<const Outcome> outcomes) {
  for (const Outcome& outcome : outcomes) {
    if (!std::isfinite(outcome.reward))
      throw std::invalid_argument("evolution: the reward of proposal #" + std::to_string(outcome.proposal.index) +
                                  " is not finite");
    dsl::print_tokens(outcome.proposal.tokens);  // throws std::out_of_range for an invalid token
  }
  for (const Outcome& outcome : outcomes) {
    population_.push_back({outcome.proposal, outcome.reward});
    if (population_.size() > static_cast<std::size_t>(config_.population)) population_.pop_front();
    ++observed_;
  }
}

std::vector<Proposal> EvolutionStrategy::best(int k) const {
  std::vector<const Member*> members;
  for (const Member& m : population_) members.push_back(&m);
  std::stable_sort(members.begin(), members.end(), [](const Member* a, const Member* b) { return a->reward > b->reward; });
  std::vector<Proposal> out;
  for (int i = 0; i < k && i < static_cast<int>(members.size()); ++i) out.push_back(members[i]->proposal);
  return out;
}

std::vector<Statistic> EvolutionStrategy::statistics() const {
  double best = population_.empty() ? 0 : -INFINITY, sum = 0;
  for (const Member& m : population_) {
    best = std::max(best, m.reward);
    sum += m.reward;
  }
  double size = static_cast<double>(population_.size());
  return {{"population", size},
          {"population_best", best},
          {"population_mean", size > 0 ? sum / size : 0},
          {"proposed", static_cast<double>(proposed_)},
          {"observed", static_cast<double>(observed_)}};
}

std::string EvolutionStrategy::save() const {
  ByteWriter out("evolution");
  // The options that shape the state: restoring under others would not continue the same search.
  out.str("batch=" + std::to_string(config_.batch) + " population=" + std::to_string(config_.population) +
          " tournament=" + std::to_string(config_.tournament) + " groups=" + config_.groups.text() +
          " max_groups=" + std::to_string(config_.max_groups) + " warm_start=" + std::to_string(config_.warm_start.size()));
  out.u64(proposed_);
  out.u64(founders_);
  out.u64(observed_);
  rng_.save(out);
  out.u64(population_.size());
  for (const Member& m : population_) {
    out.u64(m.proposal.index);
    out.i64(m.proposal.parent);
    out.str(m.proposal.origin);
    out.str(m.proposal.data);
    write_tokens(out, m.proposal.tokens);
    out.f64(m.reward);
  }
  return out.take();
}

void EvolutionStrategy::restore(std::string_view state) {
  ByteReader in(state, "evolution");
  EvolutionStrategy restored(config_, 0);
  std::string shape = in.str();
  std::string mine = EvolutionStrategy(config_, 0).save();
  ByteReader mine_reader(mine, "evolution");
  if (std::string expected = mine_reader.str(); shape != expected)
    bad_state("saved with " + shape + "; these options give " + expected);
  restored.proposed_ = in.u64();
  restored.founders_ = in.u64();
  restored.observed_ = in.u64();
  restored.rng_.restore(in);
  std::uint64_t members = in.u64();
  if (members > static_cast<std::uint64_t>(config_.population)) bad_state("population larger than the option");
  for (std::uint64_t i = 0; i < members; ++i) {
    Member m;
    m.proposal.index = in.u64();
    m.proposal.parent = in.i64();
    m.proposal.origin = in.str();
    m.proposal.data = in.str();
    m.proposal.tokens = read_tokens(in);
    m.reward = in.f64();
    restored.population_.push_back(std::move(m));
  }
  in.expect_end();
  *this = std::move(restored);
}

}  // namespace nos::controller
