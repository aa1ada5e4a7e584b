// The user's TorchScript network as a child (runtime/torchscript_model.cpp): it trains like the
// built-in mlp with the same weights; init(seed), loss() and metric() are honoured; every bad file is
// an exit-1 error of nos-train that names the file. The regression and lm objectives: a scripted
// regression mlp trains like the built-in one, a scripted bigram lm learns next tokens, and a forward
// of the wrong shape for either is refused by name. The TorchScript files are written here, from
// C++ (torch::jit::Module::define), so that nothing is downloaded or needs Python.
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include <torch/csrc/jit/api/module.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/utils.h>

#include "numpy_files.h"
#include "runtime/data/dataset.h"
#include "runtime/models.h"
#include "runtime/preflight.h"
#include "runtime/trainer.h"
#include "test_data_files.h"
#include "tests/tools/run_tool.h"
// Last: LibTorch pulls in glog, whose CHECK macros must not replace doctest's.
#include <doctest/doctest.h>

using namespace nos::runtime;
using namespace nos::testing;

namespace {

constexpr int kFeatures = 8, kClasses = 3, kHidden = 16;

std::string blobs_path() {
  static const std::string path = write_blobs_csv(temp_dir("torchscript_blobs") + "/blobs.csv", 400, kFeatures,
                                                  kClasses, false);
  return path;
}

const Split& blobs() {
  static const Split split = [] {
    SplitOptions options;
    options.val_fraction = 0.2;
    return split_dataset(load_dataset(blobs_path()), options);
  }();
  return split;
}

// The forward of runtime/models.cpp's mlp with one hidden layer, written as TorchScript: addmm is
// what nn::Linear computes, so the two agree to the last bit or close to it.
const char* kMlpForward = R"(
def forward(self, x):
    h = torch.relu(torch.addmm(self.b0, x.flatten(1), self.w0.t()))
    return torch.addmm(self.b1, h, self.w1.t())
)";

// A TorchScript module holding `weights` as w0, b0, w1, b1 and the methods in `source`, saved.
std::string save_module(const std::string& name, const std::vector<at::Tensor>& weights, const std::string& source) {
  torch::jit::Module module("__torch__.NosTestModel");
  const char* names[] = {"w0", "b0", "w1", "b1"};
  for (std::size_t i = 0; i < weights.size(); ++i)
    module.register_parameter(names[i], weights[i].detach().clone().requires_grad_(true), false);
  module.define(source);
  std::string path = temp_dir("torchscript_" + name) + "/" + name + ".pt";
  module.save(path);
  return path;
}

// The built-in mlp's initial weights for `seed` (its parameters() order: w0, b0, w1, b1).
std::vector<at::Tensor> mlp_weights(std::uint64_t seed, std::int64_t features = kFeatures, std::int64_t outputs = kClasses) {
  ModelSpec spec;
  spec.hidden = {kHidden};
  torch::manual_seed(seed);
  return make_model(spec, {features}, outputs)->parameters();
}

// numpy_files.h's regression data (2 features, 1 float target) and lm data (tokens 0 .. 6, no y).
const Split& split_of(const std::string& path) {
  static std::map<std::string, Split> splits;
  auto found = splits.find(path);
  if (found != splits.end()) return found->second;
  SplitOptions options;
  options.val_fraction = 0.2;
  return splits.emplace(path, split_dataset(load_dataset(path), options)).first->second;
}

std::string regression_path() {
  static const std::string path = write_regression_npz(temp_dir("torchscript_data_regression") + "/reg.npz", 400);
  return path;
}

std::string lm_path() {
  static const std::string path = write_lm_npz(temp_dir("torchscript_data_lm") + "/lm.npz", 300, 12);
  return path;
}

constexpr int kVocabulary = 7, kEmbedding = 8;

// A bigram lm: each token's embedding (w0) scored against every token's output vector (w1, bias b0).
// forward gets the token ids as floats, (batch, length - 1), and gives (batch, length - 1, vocabulary).
const char* kBigramForward = R"(
def forward(self, x):
    h = torch.embedding(self.w0, x.long())
    return torch.matmul(h, self.w1.t()) + self.b0
)";

std::vector<at::Tensor> bigram_weights(std::int64_t vocabulary = kVocabulary) {
  torch::manual_seed(3);
  return {0.1 * torch::randn({kVocabulary, kEmbedding}), torch::zeros({vocabulary}),
          0.1 * torch::randn({vocabulary, kEmbedding})};
}

std::string mlp_file(const std::string& name, const std::string& extra = "") {
  return save_module(name, mlp_weights(5), std::string(kMlpForward) + extra);
}

TrainConfig config_for(const std::string& model) {
  TrainConfig config;
  config.model.name = model;
  config.model.hidden = {kHidden};
  config.epochs = 3;
  config.batch_size = 32;
  config.lr = 0.05;
  config.seed = 5;
  config.threads = 1;
  return config;
}

OptimizerSpec rule(const std::string& text) {
  OptimizerSpec spec;
  spec.rule = nos::compiler::compile_text(text);
  return spec;
}

}  // namespace

TEST_CASE("a TorchScript mlp with the built-in mlp's weights trains with a rule to the same losses") {
  std::string path = mlp_file("same_as_builtin");
  for (const char* text : {"exp(sign_g * sign_m) * g", "adam"}) {
    CAPTURE(text);
    RunResult builtin = train(blobs(), rule(text), config_for("mlp"));
    RunResult scripted = train(blobs(), rule(text), config_for(path));
    REQUIRE(builtin.status == Status::Ok);
    REQUIRE(scripted.status == Status::Ok);
    REQUIRE(scripted.batch_losses.size() == builtin.batch_losses.size());
    for (std::size_t i = 0; i < builtin.batch_losses.size(); ++i)
      CHECK(scripted.batch_losses[i] == doctest::Approx(builtin.batch_losses[i]).epsilon(1e-4));
    CHECK(scripted.val_acc == doctest::Approx(builtin.val_acc));
    CHECK(scripted.val_acc > 0.9);
  }
}

TEST_CASE("without init every seed starts from the file's weights, with init(seed) from its own") {
  std::string fixed = mlp_file("no_init");
  TrainConfig a = config_for(fixed), b = config_for(fixed);
  b.seed = 6;
  // The first loss is computed before any update: the same start gives the same first batch loss
  // only if the data order were the same too, so compare the starting weights' validation instead.
  a.epochs = b.epochs = 1;
  a.lr = b.lr = 1e-30;  // a step that moves nothing measurable: validation sees the start
  RunResult ra = train(blobs(), rule("g"), a), rb = train(blobs(), rule("g"), b);
  CHECK(ra.history[0].val_loss == doctest::Approx(rb.history[0].val_loss).epsilon(1e-6));

  std::string seeded = mlp_file("with_init", R"(
def init(self, seed: int):
    self.w0.normal_(0.0, 0.5)
    self.w1.normal_(0.0, 0.5)
)");
  TrainConfig c = a, d = a, e = b;
  c.model.name = d.model.name = e.model.name = seeded;
  RunResult rc = train(blobs(), rule("g"), c), rd = train(blobs(), rule("g"), d), re = train(blobs(), rule("g"), e);
  CHECK(rc.history[0].val_loss == rd.history[0].val_loss);  // the same seed: the same init
  CHECK(rc.history[0].val_loss != doctest::Approx(re.history[0].val_loss).epsilon(1e-3));
  CHECK(rc.history[0].val_loss != doctest::Approx(ra.history[0].val_loss).epsilon(1e-3));  // not the file's
}

TEST_CASE("loss() and metric() define the objective") {
  std::string path = mlp_file("objective", R"(
def loss(self, x, y):
    return -2.0 * torch.log_softmax(self.forward(x), 1).gather(1, y.unsqueeze(1)).mean()

def metric(self, x, y):
    return torch.tensor(0.25)
)");
  TrainConfig plain = config_for(mlp_file("objective_plain")), custom = config_for(path);
  plain.epochs = custom.epochs = 1;
  RunResult p = train(blobs(), rule("sign(g)"), plain), c = train(blobs(), rule("sign(g)"), custom);
  REQUIRE(c.status == Status::Ok);
  // sign(g) ignores the gradient's scale: the doubled loss takes the same steps.
  CHECK(c.batch_losses.front() == doctest::Approx(2 * p.batch_losses.front()));
  CHECK(c.history[0].val_loss == doctest::Approx(2 * p.history[0].val_loss).epsilon(1e-4));
  CHECK(c.val_acc == doctest::Approx(0.25));
  CHECK(p.val_acc > 0.5);
}

TEST_CASE("the preflight runs the model on one batch: a model that does not fit the data is refused") {
  EvaluateSpec spec;
  spec.torch_optimizer = "adam";
  spec.data = blobs_path();
  spec.model.name = mlp_file("fits");
  CHECK_NOTHROW(preflight_child(spec));
  // Four classes out where the data has three.
  spec.model.name = save_module("wrong_classes", {torch::randn({kHidden, kFeatures}), torch::zeros({kHidden}),
                                                  torch::randn({4, kHidden}), torch::zeros({4})},
                                kMlpForward);
  CHECK_THROWS_WITH_AS(preflight_child(spec), doctest::Contains("one score per class (3 classes)"), std::invalid_argument);
}

TEST_CASE("nos-train refuses bad TorchScript files by name, with exit 1") {
  std::string dir = temp_dir("torchscript_bad");
  std::string not_script = dir + "/notes.pt";
  write_text(not_script, "this is not a zip archive\n");
  std::string no_params = save_module("no_params", {}, "\ndef forward(self, x):\n    return x\n");
  std::string wrong_input = save_module("wrong_input", mlp_weights(5), R"(
def forward(self, x):
    return torch.mm(x.reshape(-1, 5), self.w0)
)");
  struct Case {
    std::string model, expected;
  };
  for (const Case& c : {Case{not_script, "not a TorchScript model"}, Case{no_params, "no trainable parameters"},
                        Case{wrong_input, "forward() failed"}}) {
    CAPTURE(c.model);
    ToolResult r = run_tool_bounded("nos-train", {"--rule", "g", "--model", c.model, "--data", blobs_path(), "--lr", "0.1"});
    CHECK(r.exit_code == 1);
    CHECK(r.err.find(c.model) != std::string::npos);
    CHECK(r.err.find(c.expected) != std::string::npos);
  }
  ToolResult missing = run_tool("nos-train", {"--rule", "g", "--model", dir + "/missing.pt", "--data", blobs_path()});
  CHECK(missing.exit_code == 2);
  CHECK(missing.err.find("neither a built-in model") != std::string::npos);
}

TEST_CASE("nos-train trains a TorchScript file end to end") {
  std::string path = mlp_file("cli");
  std::string json = temp_dir("torchscript_cli_out") + "/run.json";
  ToolResult r = run_tool_bounded("nos-train", {"--rule", "exp(sign_g * sign_m) * g", "--model", path, "--data",
                                                blobs_path(), "--lr", "0.05", "--epochs", "2", "--json", json});
  CHECK(r.exit_code == 0);
  std::vector<std::uint8_t> bytes = read_bytes(json);
  std::string text(bytes.begin(), bytes.end());
  CHECK(text.find(path) != std::string::npos);  // the spec names the file
  CHECK(text.find("\"val_acc\"") != std::string::npos);
}

TEST_CASE("a TorchScript regression mlp trains like the built-in mlp with the same weights, metric -MSE") {
  const Split& data = split_of(regression_path());
  std::string path = save_module("regression", mlp_weights(5, 2, 1), kMlpForward);
  for (const char* text : {"exp(sign_g * sign_m) * g", "adam"}) {
    CAPTURE(text);
    TrainConfig builtin_config = config_for("mlp"), scripted_config = config_for(path);
    builtin_config.lr = scripted_config.lr = 0.01;
    RunResult builtin = train(data, rule(text), builtin_config);
    RunResult scripted = train(data, rule(text), scripted_config);
    REQUIRE(builtin.status == Status::Ok);
    REQUIRE(scripted.status == Status::Ok);
    REQUIRE(scripted.batch_losses.size() == builtin.batch_losses.size());
    for (std::size_t i = 0; i < builtin.batch_losses.size(); ++i)
      CHECK(scripted.batch_losses[i] == doctest::Approx(builtin.batch_losses[i]).epsilon(1e-4));
    CHECK(scripted.val_acc == doctest::Approx(builtin.val_acc).epsilon(1e-4));
    CHECK(scripted.val_acc == doctest::Approx(-scripted.history.back().val_loss));  // the metric is -MSE
    CHECK(scripted.batch_losses.back() < scripted.batch_losses.front() / 2);      // it learns
  }
}

TEST_CASE("a TorchScript bigram lm learns the next tokens, metric -bits per token") {
  std::string path = save_module("bigram", bigram_weights(), kBigramForward);
  TrainConfig config = config_for(path);
  config.lr = 0.01;
  config.epochs = 4;
  RunResult r = train(split_of(lm_path()), rule("adam"), config);
  REQUIRE(r.status == Status::Ok);
  REQUIRE(r.history.size() == 4);
  CHECK(r.history.back().val_loss < r.history.front().val_loss);
  // Uniform over 7 tokens is log2(7) = 2.81 bits; the bigram statistics give about 1.5.
  CHECK(r.val_acc > -2.6);
  CHECK(r.val_acc == doctest::Approx(-r.history.back().val_loss / std::log(2.0)));
}

TEST_CASE("nos-train refuses a TorchScript forward of the wrong shape for regression and lm, by name, exit 1") {
  // Regression: 3 values per example where y has 1 target.
  std::string three = save_module("regression_three", mlp_weights(5, 2, 3), kMlpForward);
  ToolResult r = run_tool_bounded("nos-train", {"--optimizer", "adam", "--model", three, "--data", regression_path(), "--lr", "0.01"});
  CHECK(r.exit_code == 1);
  CHECK_MESSAGE(r.err.find(three + ": forward() returned shape [") != std::string::npos, r.err);
  CHECK_MESSAGE(r.err.find("objective regression needs [") != std::string::npos, r.err);
  CHECK_MESSAGE(r.err.find("one value per target of y (1 per example)") != std::string::npos, r.err);
  // lm: one score vector per sequence (the positions pooled) instead of one per position.
  std::string pooled = save_module("lm_pooled", bigram_weights(), R"(
def forward(self, x):
    h = torch.embedding(self.w0, x.long()).mean(1)
    return torch.matmul(h, self.w1.t()) + self.b0
)");
  r = run_tool_bounded("nos-train", {"--optimizer", "adam", "--model", pooled, "--data", lm_path(), "--lr", "0.01"});
  CHECK(r.exit_code == 1);
  CHECK_MESSAGE(r.err.find(pooled + ": forward() returned shape [") != std::string::npos, r.err);
  CHECK_MESSAGE(r.err.find("objective lm needs [") != std::string::npos, r.err);
  CHECK_MESSAGE(r.err.find("scores over the vocabulary of 7 at each input position") != std::string::npos, r.err);
  // lm: a vocabulary of 5 where the data's is 7.
  std::string narrow = save_module("lm_narrow", bigram_weights(5), kBigramForward);
  r = run_tool_bounded("nos-train", {"--optimizer", "adam", "--model", narrow, "--data", lm_path(), "--lr", "0.01"});
  CHECK(r.exit_code == 1);
  CHECK_MESSAGE(r.err.find(narrow + ": forward() returned shape [") != std::string::npos, r.err);
  // The right shapes train end to end, the metric named.
  std::string bigram = save_module("lm_cli", bigram_weights(), kBigramForward);
  r = run_tool_bounded("nos-train", {"--optimizer", "adam", "--model", bigram, "--data", lm_path(), "--lr", "0.01",
                                     "--epochs", "1"});
  CHECK_MESSAGE(r.exit_code == 0, r.err);
  CHECK_MESSAGE(r.out.find("val neg_bits_per_token") != std::string::npos, r.out);
}
