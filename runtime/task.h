// A task: what a candidate optimizer is judged on — the model, the data and its split, the
// objective (the metric and the epochs it is taken over) and the child's budget (epochs, examples,
// batch size). It is the same whichever process trains it and however: where (device, threads,
// backend), with which seed, learning rates and time budget are the run's (RunSettings,
// train_config.h). One struct, embedded in the evaluate API's spec, the trainer's configuration
// and the search's child; its JSON (task.cpp) is what a task file holds. Torch-free.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace nos::runtime {

// A model is a built-in child, by name, or the path of the user's TorchScript file (`torch.jit.save`
// of a scripted or traced nn.Module: docs/tasks.md).
const std::vector<std::string>& model_names();  // the built-ins: "mlp", "convnet", "resnet", "textrnn", "textcnn" (models.h)
bool is_builtin_model(std::string_view name);

struct ModelSpec {
  std::string name = "mlp";               // a built-in's name, or a TorchScript file's path
  std::vector<std::int64_t> hidden{256};  // mlp: hidden layer widths, 1 .. kMaxHiddenWidth
};

// The widest hidden layer a spec may ask for: wider is a typo, not a child network (nos-train's and
// nos-search's --hidden, task_problem). The whole model is bounded apart (models.h).
inline constexpr std::int64_t kMaxHiddenWidth = std::int64_t{1} << 24;

// The value a child run is judged by (RunResult's fields of the same names).
enum class Metric { ValAcc, ValAccMeanLastK, ValAccMaxLastK };
const char* name(Metric metric);  // "val_acc", "val_acc_mean_last_k", "val_acc_max_last_k"
std::optional<Metric> parse_metric(std::string_view text);

// What the child learns (docs/tasks.md#objectives). Every metric is higher-is-better: a loss-like
// value (a mean squared error, bits per token) is shown and stored negated.
//   classification           integer class labels y; cross entropy; metric: accuracy
//   sequence_classification  the same on token sequences (textcnn, textrnn)
//   regression               float targets y (N,) or (N, K); mean squared error; metric: -MSE
//   lm                       token sequences x (N, T), no y: each position predicts the next token;
//                            cross entropy over every position; metric: -bits per token
// Auto: the data decides (float y: regression; integer y: classification, or sequence
// classification for token sequences; token sequences without y: lm).
enum class Objective { Auto, Classification, SequenceClassification, Regression, LanguageModel };
const char* name(Objective objective);  // "auto", "classification", "sequence_classification", "regression", "lm"
std::optional<Objective> parse_objective(std::string_view text);
// The metric's name as shown beside its value: "accuracy", "neg_mse", "neg_bits_per_token" (Auto:
// "accuracy", as a stored search without the key is classification).
const char* metric_label(Objective objective);
// Whether the metric is accuracy-like (0 .. 1, shown in %): classification, sequence
// classification and Auto. Otherwise it is a negated loss, <= 0.
bool metric_is_accuracy(Objective objective);

struct TaskSpec {
  ModelSpec model;
  Objective objective = Objective::Auto;  // written to JSON only when not Auto (old files and searches read the same)
  std::string data = "fashion-mnist";  // load_dataset's spec: a name, a directory, a prefix, a .csv
  std::int64_t train_subset = 0;       // > 0: train on only this many examples
  double val_fraction = 1.0 / 6;       // held out for validation
  int epochs = 1;
  std::int64_t batch_size = 128;
  Metric metric = Metric::ValAcc;      // what picks the best learning rate and is reported as `metric`
  int last_k = 3;                      // epochs the mean/max metrics are taken over
  double divergence_factor = 1e3;      // a loss above this times the first loss diverges
};

// Why `task` cannot run, as "key: problem" (e.g. "epochs: must be 1 .. 100000, not 0"); empty when
// it can.
std::string task_problem(const TaskSpec& task);

// The task's JSON keys. In a task file and the evaluate API's spec the model is an object,
// "model": {"name": "mlp", "hidden": [256]}; the search configuration's "child" spells it
// "model": "mlp", "hidden": [256] (as stored since its first version). read_task takes both.
inline constexpr std::string_view kTaskKeys[] = {"data",       "model",      "hidden", "objective", "train_subset", "val_fraction",
                                                 "epochs",     "batch_size", "metric", "last_k",    "divergence_factor"};

nlohmann::json to_json(const TaskSpec& task);  // every key (objective only when not Auto); the model as an object
// The search configuration's spelling of the model: "model" a name, "hidden" beside it.
void flatten_model(nlohmann::json& j);

// Replaces the fields of `task` whose keys `j` (an object) holds, leaving the others. Throws
// std::invalid_argument "where: path.key: problem" for a wrong type, an out-of-range integer or an
// unknown metric; other keys of `j` are the caller's (it checks them), and so are the values'
// ranges (task_problem).
void read_task(const nlohmann::json& j, std::string_view where, const std::string& path, TaskSpec& task);

// A whole task object (a task file's): unknown keys refused, absent keys the defaults above, then
// task_problem; std::invalid_argument "where: key: problem".
TaskSpec task_from_json(const nlohmann::json& j, std::string_view where);

}  // namespace nos::runtime
