// nos-train end to end: the real binary on small generated data sets. Exit codes, the messages of
// bad input, the JSON report, diverging rules, sweeps and the LibTorch comparison optimizers.
#include <doctest/doctest.h>

#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "../tools/run_tool.h"
#include "test_data_files.h"

using nos::testing::run_tool;
using nos::testing::ToolResult;
using namespace nos::testing;

namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// A small separable CSV: every run on it takes well under a second.
std::string blobs_csv() {
  static const std::string path = write_blobs_csv(temp_dir("cli_blobs") + "/blobs.csv", 300, 6, 3, true);
  return path;
}

std::vector<std::string> fast(std::vector<std::string> args) {
  for (const char* a : {"--hidden", "16", "--threads", "1", "--batch-size", "32"}) args.push_back(a);
  return args;
}

nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in);
}

}  // namespace

TEST_CASE("nos-train --help documents every option") {
  ToolResult r = run_tool("nos-train", {"--help"});
  CHECK(r.exit_code == 0);
  for (const char* option : {"--rule", "--rule-name", "--expr", "--tokens", "--metric", "--optimizer", "--momentum", "--model", "--hidden", "--data",
                             "--epochs", "--lr", "--lr-sweep", "--device", "--seed", "--json", "--batch-size",
                             "--train-subset", "--val-fraction", "--threads", "--time-budget", "--backend", "--last-k", "--task"})
    CHECK_MESSAGE(contains(r.out, option), option);
}

TEST_CASE("a rule run writes the JSON report") {
  std::string json = temp_dir("cli_report") + "/out.json";
  ToolResult r = run_tool("nos-train", fast({"--rule", "exp(sign(g) * sign(m)) * g", "--data", blobs_csv(), "--epochs",
                                             "3", "--lr", "0.05", "--json", json, "--seed", "2"}));
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(contains(r.out, "epoch   1/3"));
  CHECK(contains(r.out, "val acc"));
  nlohmann::json j = read_json(json);
  CHECK(j["status"] == "ok");
  CHECK(j["metric"]["name"] == "val_acc");
  CHECK(j["metric"]["value"] == j["val_acc"]);
  CHECK(j["timings"]["training"].get<double>() > 0);
  CHECK(j["spec"]["lrs"] == nlohmann::json::array({0.05}));
  CHECK(j["val_acc"].get<double>() > 0.9);
  CHECK(j["val_acc"].get<double>() <= 1.0);
  CHECK(j["lr"] == 0.05);
  CHECK(j["history"].size() == 3);
  CHECK(j["history"][0].contains("train_loss"));
  CHECK(j["history"][0].contains("seconds"));
  CHECK(j["rule"]["text"] == "exp(sign(g) * sign(m)) * g");
  CHECK(j["rule"]["hash"].get<std::string>().size() == 16);
  CHECK(j["sweep"].size() == 1);
  CHECK(j["wall_seconds"].get<double>() > 0);
  CHECK(j["data"]["train_size"] == 250);
  CHECK(j["data"]["val_size"] == 50);
  CHECK(j["loss_curve"]["values"].size() == 24);  // 3 epochs of 8 batches
}

TEST_CASE("--lr-sweep reports every run and trains at the best learning rate") {
  std::string json = temp_dir("cli_sweep") + "/out.json";
  ToolResult r = run_tool("nos-train", fast({"--rule", "g", "--data", blobs_csv(), "--epochs", "2", "--lr-sweep",
                                             "1e-7,0.1", "--json", json}));
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  nlohmann::json j = read_json(json);
  REQUIRE(j["sweep"].size() == 2);
  CHECK(j["sweep"][0]["lr"] == 1e-7);
  CHECK(j["lr"] == 0.1);
  CHECK(j["val_acc"] == j["sweep"][1]["val_acc"]);
}

TEST_CASE("a diverging rule ends with status diverged and exit code 0") {
  std::string json = temp_dir("cli_diverge") + "/out.json";
  ToolResult r = run_tool("nos-train",
                          fast({"--rule", "exp(g2) * 1e30", "--data", blobs_csv(), "--epochs", "2", "--lr", "0.1", "--json", json}));
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(contains(r.out, "diverged"));
  nlohmann::json j = read_json(json);
  CHECK(j["status"] == "diverged");
  CHECK(j["message"].get<std::string>().size() > 0);
}

TEST_CASE("LibTorch's optimizers run for comparison") {
  std::string json = temp_dir("cli_torch") + "/out.json";
  ToolResult r = run_tool("nos-train", fast({"--optimizer", "sgd", "--momentum", "0.9", "--data", blobs_csv(),
                                             "--lr", "0.05", "--json", json}));
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  nlohmann::json j = read_json(json);
  CHECK(j["torch"] == "sgd");
  CHECK(j["momentum"] == 0.9);
  CHECK(j["backend"] == "torch");
}

TEST_CASE("a rule file with several rules needs --rule-name") {
  std::string dir = temp_dir("cli_rule_file");
  write_text(dir + "/rules.dsl", "sgd: g\npowersign: exp(sign_g * sign_m) * g\n");
  ToolResult r = run_tool("nos-train", fast({"--rule", dir + "/rules.dsl", "--data", blobs_csv(), "--lr", "0.1"}));
  CHECK(r.exit_code == 1);
  CHECK(contains(r.err, "--rule-name"));
  CHECK(contains(r.err, "powersign"));
  std::string json = dir + "/out.json";
  r = run_tool("nos-train", fast({"--rule", dir + "/rules.dsl", "--rule-name", "powersign", "--data", blobs_csv(),
                                  "--lr", "0.1", "--json", json}));
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(read_json(json)["rule"]["name"] == "powersign");
  r = run_tool("nos-train", fast({"--rule", dir + "/rules.dsl", "--rule-name", "adam", "--data", blobs_csv(), "--lr", "0.1"}));
  CHECK(r.exit_code == 1);
  CHECK(contains(r.err, "no rule named 'adam'"));
}

TEST_CASE("bad input exits 1 with a message naming the file or the rule") {
  std::string dir = temp_dir("cli_bad_input");
  SUBCASE("a truncated IDX file") {
    write_idx(dir + "/train-images-idx3-ubyte.gz", {60000, 28, 28}, std::vector<std::uint8_t>(1000, 1), true);
    write_idx(dir + "/train-labels-idx1-ubyte.gz", {60000}, std::vector<std::uint8_t>(60000, 1), true);
    ToolResult r = run_tool("nos-train", {"--rule", "g", "--data", dir, "--lr", "0.1"});
    CHECK(r.exit_code == 1);
    CHECK(contains(r.err, dir + "/train-images-idx3-ubyte.gz"));
    CHECK(contains(r.err, "expected 47040000 bytes of images, got 1000"));
  }
  SUBCASE("missing data") {
    ToolResult r = run_tool("nos-train", {"--rule", "g", "--data", dir + "/nowhere", "--lr", "0.1"});
    CHECK(r.exit_code == 1);
    CHECK(contains(r.err, dir + "/nowhere"));
  }
  SUBCASE("a CSV row with the wrong number of fields") {
    write_text(dir + "/bad.csv", "1,2,0\n3,4,1\n5,1\n");
    ToolResult r = run_tool("nos-train", {"--rule", "g", "--data", dir + "/bad.csv", "--lr", "0.1"});
    CHECK(r.exit_code == 1);
    CHECK(contains(r.err, dir + "/bad.csv:3: expected 3 fields, got 2"));
  }
  SUBCASE("an invalid rule") {
    ToolResult r = run_tool("nos-train", {"--rule", "exp(sgin(g))", "--data", blobs_csv(), "--lr", "0.1"});
    CHECK(r.exit_code == 1);
    CHECK(contains(r.err, "sgin"));
  }
  SUBCASE("a missing rule file") {
    ToolResult r = run_tool("nos-train", {"--rule", dir + "/missing.dsl", "--data", blobs_csv(), "--lr", "0.1"});
    CHECK(r.exit_code == 1);
    CHECK(contains(r.err, dir + "/missing.dsl"));
  }
  SUBCASE("data of one class, or too few rows to split: refused before training") {
    write_text(dir + "/one.csv", "1,2,0\n");
    ToolResult r = run_tool("nos-train", {"--rule", "g", "--data", dir + "/one.csv", "--lr", "0.1"});
    CHECK(r.exit_code == 1);
    CHECK(contains(r.err, dir + "/one.csv: 1 example, too few to split"));
    std::string same;
    for (int i = 0; i < 40; ++i) same += std::to_string(i) + ",1,3\n";
    write_text(dir + "/same.csv", same);
    r = run_tool("nos-train", {"--rule", "g", "--data", dir + "/same.csv", "--lr", "0.1"});
    CHECK(r.exit_code == 1);
    CHECK(contains(r.err, dir + "/same.csv: all 40 labels are class 3"));
    CHECK(r.out.empty());  // nothing trained, nothing printed
  }
  SUBCASE("a small validation split: a warning on standard error, then the run") {
    std::string small = write_blobs_csv(dir + "/small.csv", 60, 3, 2, false);
    ToolResult r = run_tool("nos-train", {"--optimizer", "adam", "--data", small, "--lr", "0.1", "--hidden", "4"});
    CHECK(r.exit_code == 0);
    CHECK(contains(r.err, "nos-train: warning: " + small + ": the validation split has only 10 examples"));
  }
  SUBCASE("convnet on tabular data") {
    ToolResult r = run_tool("nos-train", {"--rule", "g", "--model", "convnet", "--data", blobs_csv(), "--lr", "0.1"});
    CHECK(r.exit_code == 1);
    CHECK(contains(r.err, "convnet needs image data"));
  }
}

TEST_CASE("usage mistakes exit 2 naming the option") {
  struct Case {
    std::vector<std::string> args;
    const char* expected;
  };
  std::vector<Case> cases = {
      {{"--data", blobs_csv(), "--lr", "0.1"}, "--rule"},
      {{"--rule", "g", "--data", blobs_csv()}, "--lr"},
      {{"--rule", "g", "--model", "resnet9", "--lr", "0.1"}, "--model"},
      {{"--rule", "g", "--device", "tpu", "--lr", "0.1"}, "tpu"},
      {{"--rule", "g", "--optimizer", "adam", "--lr", "0.1"}, "--optimizer"},
      {{"--rule", "g", "--lr", "0.1", "--lr-sweep", "0.1,0.2"}, "--lr"},
      {{"--rule", "g", "--lr", "0.1", "--epochs", "0"}, "--epochs"},
      {{"--rule", "g", "--lr", "0.1", "--bogus"}, "--bogus"},
      {{"--rule", "g", "--lr", "0.1", "--val-fraction", "1"}, "--val-fraction"},
      // Out-of-domain values, refused by the shared option checks (tools/options.h):
      {{"--rule", "g", "--lr", "0.1", "--threads", "100000"}, "--threads"},
      {{"--rule", "g", "--lr", "1e-50"}, "rounds to 0 in float32"},
      {{"--rule", "g", "--lr-sweep", "0.1,1e-50"}, "rounds to 0 in float32"},
      {{"--rule", "g", "--lr", "0.1", "--seed", "18446744073709551616"}, "--seed"},
      {{"--rule", "g", "--lr", "0.1", "--seed", "-1"}, "--seed"},
      {{"--rule", "g", "--rule", "m", "--lr", "0.1"}, "--rule"},
      {{"-e", "g", "--rule-name", "a", "--lr", "0.1"}, "--rule-name"},
  };
  for (const Case& c : cases) {
    ToolResult r = run_tool("nos-train", c.args);
    CAPTURE(c.expected);
    CAPTURE(r.err);
    CHECK(r.exit_code == 2);
    CHECK(contains(r.err, c.expected));
  }
}

TEST_CASE("nos-train: the rule options mean what they mean in nosc") {
  std::string json = temp_dir("cli_rule_options") + "/out.json";
  std::vector<std::string> hashes;
  for (const std::vector<std::string>& rule : {std::vector<std::string>{"-e", "exp(sign(g) * sign(m)) * g"},
                                               {"--tokens", "sign_g sign_m id id mul o1 g exp id mul"},
                                               {"--rule", "exp(sign(g) * sign(m)) * g"}}) {
    std::vector<std::string> args = rule;
    for (const char* a : {"--lr", "0.05", "--epochs", "1", "--json"}) args.push_back(a);
    args.push_back(json);
    args.push_back("--data");
    args.push_back(blobs_csv());
    ToolResult r = run_tool("nos-train", fast(args));
    CAPTURE(r.err);
    REQUIRE(r.exit_code == 0);
    hashes.push_back(read_json(json)["rule"]["hash"]);
  }
  CHECK(hashes[0] == hashes[1]);
  CHECK(hashes[0] == hashes[2]);
}

TEST_CASE("nos-train: input mistakes that once were internal errors exit 1 naming the problem") {
  std::string dir = temp_dir("cli_hostile");
  ToolResult huge = run_tool("nos-train", {"--rule", "g", "--data", blobs_csv(), "--lr", "0.1", "--hidden",
                                           "16777216,16777216"});
  CHECK(huge.exit_code == 1);
  CHECK(contains(huge.err, "at most 268435456 are supported"));
  ToolResult json_dir = run_tool("nos-train", fast({"--rule", "g", "--data", blobs_csv(), "--lr", "0.1", "--json", dir}));
  CHECK(json_dir.exit_code == 1);
  CHECK(contains(json_dir.err, "--json: '" + dir + "' is a directory"));
  ToolResult full = nos::testing::run_tool_to("/dev/full", "nos-train",
                                              fast({"--rule", "g", "--data", blobs_csv(), "--lr", "0.1", "--epochs", "1"}));
  CHECK(full.exit_code == 1);
  CHECK(contains(full.err, "nos-train: error: cannot write standard output"));
}

TEST_CASE("--device cuda without a GPU is an error naming the device") {
  ToolResult r = run_tool("nos-train", fast({"--rule", "g", "--data", blobs_csv(), "--lr", "0.1", "--device", "cuda"}));
  if (r.exit_code == 0) {
    MESSAGE("[SKIP] a CUDA device is present; nothing to refuse");
    return;
  }
  CHECK(r.exit_code == 1);
  CHECK(contains(r.err, "cuda"));
}
