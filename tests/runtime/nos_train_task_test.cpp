// nos-train --task FILE: the file's task trains, an option beside it replaces its key, and a bad
// file, key, type or value is exit 1 naming the file and the key.
#include <doctest/doctest.h>

#include <filesystem>
#include <cstdlib>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "../tools/run_tool.h"
#include "test_data_files.h"

using namespace nos::testing;

namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in);
}

}  // namespace

TEST_CASE("nos-train --task: the file's task trains, relative data is the file's directory's, options replace its keys") {
  std::string dir = temp_dir("cli_task");
  write_blobs_csv(dir + "/blobs.csv", 300, 6, 3, true);
  write_text(dir + "/task.json", R"({"model": {"name": "mlp", "hidden": [16]}, "data": "blobs.csv", "epochs": 2,
                                    "batch_size": 32, "val_fraction": 0.2})");
  std::string json = dir + "/out.json";
  ToolResult r = run_tool("nos-train", {"--rule", "g", "--lr", "0.1", "--threads", "1", "--task", dir + "/task.json",
                                        "--json", json});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  nlohmann::json j = read_json(json);
  CHECK(j["history"].size() == 2);
  CHECK(j["spec"]["data"] == dir + "/blobs.csv");
  CHECK(j["spec"]["model"]["hidden"] == nlohmann::json::array({16}));
  CHECK(j["data"]["val_size"] == 60);

  // Run from elsewhere with options beside the file: they win, the rest is the file's.
  ToolResult o = run_tool("nos-train", {"--rule", "g", "--lr", "0.1", "--threads", "1", "--task", dir + "/task.json",
                                        "--epochs", "1", "--hidden", "8", "--json", json});
  INFO(o.err);
  REQUIRE(o.exit_code == 0);
  j = read_json(json);
  CHECK(j["history"].size() == 1);
  CHECK(j["spec"]["model"]["hidden"] == nlohmann::json::array({8}));
  CHECK(j["spec"]["batch_size"] == 32);
}

TEST_CASE("nos-train --task: a bad task file is exit 1 naming the file and the key") {
  std::string dir = temp_dir("cli_task_bad");
  const std::string path = dir + "/task.json";
  auto refused = [&](const std::string& text, const std::string& message) {
    write_text(path, text);
    ToolResult r = run_tool("nos-train", {"--rule", "g", "--lr", "0.1", "--task", path});
    CAPTURE(text);
    CHECK(r.exit_code == 1);
    CHECK_MESSAGE(contains(r.err, path + ": " + message), r.err);
  };
  refused(R"({"epoch": 2})", "epoch: unknown key");
  refused(R"({"epochs": "2"})", "epochs: expected an integer");
  refused(R"({"epochs": 0})", "epochs: must be 1 .. 100000, not 0");
  refused(R"({"model": "nosuch.pt"})", "model: unknown model");
  refused("{", "not valid JSON");
  ToolResult missing = run_tool("nos-train", {"--rule", "g", "--lr", "0.1", "--task", dir + "/none.json"});
  CHECK(missing.exit_code == 1);
  CHECK(contains(missing.err, dir + "/none.json: cannot open"));
}

TEST_CASE("nos-train --task examples/tasks/*.json: the cheap example tasks train one epoch on a small subset") {
  if (!std::filesystem::exists("/usr/share/datasets/fashion-mnist") && !std::getenv("NOS_DATASETS")) {
    MESSAGE("skipped: no Fashion-MNIST (setup-debian.sh installs it)");
    return;
  }
  for (const char* name : {"fashion-mlp", "fashion-resnet"}) {
    CAPTURE(name);
    ToolResult r = run_tool("nos-train", {"--rule", "adam", "--lr", "0.001", "--threads", "1", "--task",
                                          source_path(std::string("examples/tasks/") + name + ".json"), "--epochs", "1",
                                          "--train-subset", "300", "--val-fraction", "0.05"});
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(contains(r.out, "epoch   1/1"));
  }
}
