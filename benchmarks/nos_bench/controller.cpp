// nos-bench controller: what the search strategies cost per batch, next to one child training
// (about 5 s on one core for the default child): sampling a batch of 20 from the lstm controller,
// one PPO update (all its epochs) and one REINFORCE update, and evolution's and random's proposals.
//
//   nos-bench controller --threads 1 --json controller.json
//
// Every record: strategy, operation, groups, batch, median/min/max wall ms, the median CPU time of the
// calling thread (cpu_median_ms: with --threads 1 all of LibTorch's work runs there, so this is what
// the operation costs on an idle core even when the machine is shared), reps, threads, load average.
#include <cerrno>
#include <cstdio>
#include <ctime>
#include <system_error>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "benchmarks/nos_bench/commands.h"
#include "benchmarks/nos_bench/step_impls.h"
#include "benchmarks/nos_bench/timing.h"
#include "controller/lstm/lstm_strategy.h"
#include "controller/strategy.h"
#include "support/atomic_file.h"
#include "tools/options.h"
#include "runtime/json_text.h"

namespace nos::bench {
namespace {

struct ControllerOptions {
  std::string json;
  int reps = 20;
  int batch = 20;
  std::vector<int> groups{1, 2, 3};
  int threads = 1;
  std::string device = "cpu";
};

// CPU time of the calling thread, in ms.
double thread_cpu_ms() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_nsec) * 1e-6;
}

// Timed with both clocks.
struct Timer {
  std::chrono::steady_clock::time_point wall = std::chrono::steady_clock::now();
  double cpu = thread_cpu_ms();
  std::pair<double, double> ms() const {
    return {std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - wall).count(), thread_cpu_ms() - cpu};
  }
};

double fraction_of(const dsl::TokenSequence& t) { return static_cast<double>(t[0].op1 % 7) / 7.0; }  // any reward

int run_controller(const ControllerOptions& o) {
  if (o.threads > 0) set_torch_threads(o.threads);
  controller::register_lstm_strategy();
  nlohmann::json records = nlohmann::json::array();
  using Samples = std::vector<std::pair<double, double>>;  // (wall, cpu) ms
  auto record = [&](std::string strategy, std::string operation, int groups, const Samples& samples) {
    std::vector<double> wall, cpu;
    for (auto [w, c] : samples) {
      wall.push_back(w);
      cpu.push_back(c);
    }
    Stats s = summarize(wall);
    nlohmann::json r = {{"strategy", strategy}, {"operation", operation}, {"groups", groups}, {"batch", o.batch},
                        {"median_ms", s.median_ms}, {"min_ms", s.min_ms}, {"max_ms", s.max_ms},
                        {"cpu_median_ms", summarize(cpu).median_ms}, {"reps", s.reps},
                        {"threads", o.threads}, {"device", strategy == "lstm" ? o.device : "cpu"},
                        {"load_avg_1m", load_average_1m()}};
    fmt::print("{}\n", json_text(r));
    std::fflush(stdout);
    records.push_back(r);
  };
  for (int groups : o.groups) {
    struct Case {
      std::string strategy, algorithm;
    };
    for (const Case& c : {Case{"lstm", "ppo"}, Case{"lstm", "reinforce"}, Case{"evolution", ""}, Case{"random", ""}}) {
      controller::Options options;
      options.set("batch", std::to_string(o.batch)).set("groups", std::to_string(groups));
      if (c.strategy == "lstm") options.set("algorithm", c.algorithm).set("device", o.device);
      if (c.strategy == "evolution") options.set("max_groups", std::to_string(std::max(groups, 4)));
      auto strategy = controller::make_strategy(c.strategy, options, 1);
      Samples propose_ms, observe_ms;
      // Two untimed rounds first (allocations, lazy initialization); evolution's timed rounds start
      // after its first population (100) is in, so they time tournaments and mutations.
      int warmup = c.strategy == "evolution" ? 100 / o.batch + 2 : 2;
      for (int rep = 0; rep < warmup + o.reps; ++rep) {
        Timer timer;
        std::vector<controller::Proposal> proposals = strategy->propose();
        auto proposed = timer.ms();
        std::vector<controller::Outcome> outcomes;
        for (auto& p : proposals) {
          double reward = fraction_of(p.tokens);
          outcomes.push_back({std::move(p), reward});
        }
        Timer again;
        strategy->observe(outcomes);
        auto observed = again.ms();
        if (rep >= warmup) {
          propose_ms.push_back(proposed);
          observe_ms.push_back(observed);
        }
      }
      if (c.algorithm != "reinforce") record(c.strategy, "propose", groups, propose_ms);
      record(c.strategy, c.strategy == "lstm" ? c.algorithm + "_update" : "observe", groups, observe_ms);
      if (c.strategy == "lstm" && c.algorithm == "ppo") {
        Samples beam_ms;
        for (int rep = 0; rep < std::max(3, o.reps / 4); ++rep) {
          Timer timer;
          strategy->best(5);
          beam_ms.push_back(timer.ms());
        }
        record(c.strategy, "beam_search_k5", groups, beam_ms);
        // One forward and backward pass of the loss (no optimizer step): what each PPO epoch costs.
        auto& lstm = dynamic_cast<controller::LstmStrategy&>(*strategy);
        std::vector<controller::Outcome> outcomes;
        for (auto& p : strategy->propose()) outcomes.push_back({std::move(p), 0.5});
        std::vector<double> advantages(outcomes.size(), 0.1);
        Samples pass_ms;
        for (int rep = 0; rep < 2 + o.reps; ++rep) {
          Timer timer;
          lstm.loss_gradient(outcomes, advantages);
          if (rep >= 2) pass_ms.push_back(timer.ms());
        }
        record(c.strategy, "forward_backward", groups, pass_ms);
      }
    }
  }
  if (!o.json.empty()) {
    support::write_file_atomically(o.json, json_text(records, 2) + "\n", "--json");
  }
  return kOk;
}

}  // namespace

void add_controller_command(CLI::App& app, Runner& run) {
  auto o = std::make_shared<ControllerOptions>();
  CLI::App* cmd = app.add_subcommand("controller", "cost of the search strategies: lstm sampling and PPO/REINFORCE "
                                                   "updates, evolution and random proposals, per batch");
  cmd->add_option("--reps", o->reps, "timed batches per measurement")->check(CLI::Range(1, 100000))->capture_default_str();
  cmd->add_option("--batch", o->batch, "proposals per batch")->check(CLI::Range(1, 1 << 16))->capture_default_str();
  cmd->add_option("--groups", o->groups, "groups per sequence, comma-separated")
      ->delimiter(',')
      ->check(CLI::Range(1, 32))
      ->capture_default_str();
  tool::add_threads_option(*cmd, o->threads, "LibTorch intra-op threads (0: LibTorch's default)");
  cmd->add_option("--device", o->device, "the lstm controller's device: cpu or cuda[:N]")->capture_default_str();
  cmd->add_option("--json", o->json, "write the records as a JSON array to this file");
  cmd->callback([&run, o] { run = [o] { return run_controller(*o); }; });
}

}  // namespace nos::bench
