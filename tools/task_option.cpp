#include "tools/task_option.h"

#include "runtime/task_file.h"

namespace nos::tool {
namespace {

constexpr TaskOptionKey kKeys[] = {{"--model", "model"},   {"--hidden", "hidden"},         {"--data", "data"},
                                   {"--epochs", "epochs"}, {"--train-subset", "train_subset"}, {"--val-fraction", "val_fraction"},
                                   {"--batch-size", "batch_size"}, {"--metric", "metric"}, {"--last-k", "last_k"},
                                   {"--objective", "objective"}};

// Copies the field `key` names from `from` to `to`.
void copy_key(const std::string& key, const runtime::TaskSpec& from, runtime::TaskSpec& to) {
  if (key == "model") to.model.name = from.model.name;
  else if (key == "hidden") to.model.hidden = from.model.hidden;
  else if (key == "data") to.data = from.data;
  else if (key == "epochs") to.epochs = from.epochs;
  else if (key == "train_subset") to.train_subset = from.train_subset;
  else if (key == "val_fraction") to.val_fraction = from.val_fraction;
  else if (key == "batch_size") to.batch_size = from.batch_size;
  else if (key == "metric") to.metric = from.metric;
  else if (key == "last_k") to.last_k = from.last_k;
  else if (key == "objective") to.objective = from.objective;
}

}  // namespace

CLI::Option* add_task_option(CLI::App& app, std::string& path) {
  return app.add_option("--task", path,
                        "a task file: JSON of the model, data and budget (docs/tasks.md; examples/tasks/); the "
                        "options given beside it replace its keys");
}

std::span<const TaskOptionKey> task_option_keys() { return kKeys; }

void apply_task_file(const CLI::App& app, const std::string& path, const runtime::TaskSpec& defaults,
                     runtime::TaskSpec& task) {
  if (path.empty()) return;
  const runtime::TaskSpec given = task;
  task = runtime::read_task_file(path, defaults);
  for (const TaskOptionKey& k : kKeys)
    if (const CLI::Option* option = app.get_option_no_throw(k.flag); option && option->count() > 0)
      copy_key(k.key, given, task);
}

}  // namespace nos::tool
