// The method's other distributed form: controller replicas. Each replica keeps its own copy of the
// controller (the lstm strategy), samples batches from it, has them trained through the search's
// queue (the workers), turns their rewards into a policy update and sends it to the parameter
// server, which is the search database (Storage's parameter server: versions, batches claimed by
// replicas, compare-and-swap updates). Before sampling, a replica pulls the newest parameters.
//
// The server's optimizer: the shared state is the whole controller state of the lstm (parameters,
// Adam's moments and step counts, the reward baseline, the update count); an update is the state
// after one observe() (PPO's epochs or a REINFORCE step with Adam) computed from the newest version.
// It is applied only against that version (push_update); when another replica's update came first,
// the replica recomputes its update from the same batch against the new newest version (PPO's
// importance ratio uses each sample's stored log-probability, so a batch sampled from an older
// version is corrected for), so no update is half-applied or lost. The staleness of an update is
// the number of versions between the one its batch was sampled with and the one it was applied to;
// the rule: an update staler than `max_staleness` is refused (recorded `refused`, the batch's
// results stay). With one replica, every step is the single-controller search's (SearchLoop), so
// the results are the same. Synchronous mode: rounds of one batch per replica, every replica's
// batch of round r sampled with version r * N, their updates applied in replica order (batch
// r * N + k is applied to version r * N + k): reproducible. Torch-free.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "controller/search/search_loop.h"

namespace nos::search {

struct ReplicaOptions {
  std::string name = "replica-0";  // the replica's name in the database (batches, versions)
  int index = 0;                   // synchronous mode: its place in each round, 0 .. replicas - 1
  int replicas = 1;                // synchronous mode: how many take part in each round
  bool synchronous = false;
  std::int64_t max_staleness = -1;  // refuse updates staler than this; < 0: apply every one
};

// The seed of replica `index`'s own random stream: the search's seed for replica 0 (so that one
// replica is the single-controller search), distinct ones for the others.
std::uint64_t replica_seed(std::uint64_t search_seed, int index);

class ReplicaLoop {
 public:
  // SearchError for what replicas cannot do (an --async search, the funnel, a synchronous index
  // outside 0 .. replicas - 1); a strategy without shared parameters throws std::invalid_argument.
  ReplicaLoop(Storage& storage, SearchId search, const SearchConfig& config, controller::Strategy& strategy,
              ReplicaOptions options, LoopEvents events = {});
  // Samples, waits, learns until no batch of the budget is left to claim and this replica's own are
  // learned from, or `stop` is set. A replica restarted under the same name resumes: its own state
  // from its last claimed batch, and its open batches are waited for and learned from.
  LoopEnd run(const std::atomic<bool>* stop = nullptr);
  const SearchProgress& progress() const { return progress_; }
  std::int64_t updates_applied() const { return applied_; }
  std::int64_t updates_refused() const { return refused_; }

 private:
  struct Open {
    std::int64_t batch;
    std::vector<controller::Proposal> proposals;
    std::int64_t sampled_version;
  };
  bool wait_until(const std::function<bool()>& done, const std::atomic<bool>* stop);
  bool propose_next(const std::atomic<bool>* stop, std::vector<Open>& open);
  void fill(std::int64_t batch, const std::vector<controller::Proposal>& proposals);
  bool learnable(std::int64_t batch);
  bool learn(const Open& open, const std::atomic<bool>* stop);

  Storage& storage_;
  SearchId search_;
  const SearchConfig& config_;
  controller::Strategy& strategy_;
  ReplicaOptions options_;
  LoopEvents events_;
  SearchProgress progress_;
  std::int64_t claimed_ = 0;    // batches this replica has claimed (its rounds, synchronous)
  std::int64_t finished_below_ = 0;  // every batch below this one has no pending task
  std::int64_t applied_ = 0, refused_ = 0;
  bool exhausted_ = false;      // no batch left to claim
};

}  // namespace nos::search
