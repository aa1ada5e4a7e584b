// preflight_child (runtime/preflight.h): every check evaluate() makes at its start, without
// training: the spec, the data and its split, the model built once.
#include <doctest/doctest.h>

#include <stdexcept>
#include <string>

#include "runtime/preflight.h"
#include "test_data_files.h"

using namespace nos;
using namespace nos::runtime;
using namespace nos::testing;

namespace {

EvaluateSpec adam_on(const std::string& data) {
  EvaluateSpec spec;
  spec.torch_optimizer = "adam";
  spec.model.hidden = {16};
  spec.data = data;
  spec.lrs = {0.01, 0.1};
  return spec;
}

std::string refusal(const EvaluateSpec& spec) {
  try {
    preflight_child(spec);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  FAIL("expected std::invalid_argument");
  return "";
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("preflight_child loads and splits the data as evaluate() does, and says what is doubtful") {
  std::string dir = temp_dir("preflight");
  EvaluateSpec spec = adam_on(write_blobs_csv(dir + "/blobs.csv", 900, 8, 3, false));
  spec.split_seed = 5;
  ChildPreflight checked = preflight_child(spec);
  CHECK(checked.data.size() == 900);
  Split again = split_dataset(checked.data, split_options(spec));
  CHECK(checked.split.val.labels == again.val.labels);
  CHECK(checked.split.train.features == again.train.features);
  CHECK(checked.warnings.empty());

  spec.data = write_blobs_csv(dir + "/small.csv", 60, 8, 3, false);
  checked = preflight_child(spec);
  REQUIRE(checked.warnings.size() == 1);
  CHECK(contains(checked.warnings[0], "the validation split has only 10 examples"));
}

TEST_CASE("preflight_child refuses with the message evaluate() would give") {
  std::string dir = temp_dir("preflight_refusals");
  EvaluateSpec spec = adam_on(write_blobs_csv(dir + "/blobs.csv", 300, 8, 3, false));
  spec.lrs = {0.1, 1e-50};
  CHECK(contains(refusal(spec), "learning rate 1e-50 rounds to 0 in float32"));
  spec.lrs = {0.1};
  spec.model.hidden = {100000, 100000};
  CHECK(contains(refusal(spec), "model mlp with hidden widths 100000,100000 would have 1e+10 parameters"));
  spec.model.hidden = {kMaxHiddenWidth + 1};
  CHECK(contains(refusal(spec), "hidden layer width 16777217 is outside 1..16777216"));
  spec.model = {"convnet", {}};
  CHECK(contains(refusal(spec), "convnet needs image data"));
  spec.model = {};
  spec.train_subset = 1;
  CHECK(contains(refusal(spec), "the 1 training example(s) are all class"));
  spec.train_subset = 0;
  spec.data = dir + "/missing.csv";
  CHECK(contains(refusal(spec), dir + "/missing.csv: no such file"));
}
