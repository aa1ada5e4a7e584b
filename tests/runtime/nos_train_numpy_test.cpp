// nos-train on NumPy data end to end: an .npz built byte by byte (numpy_files.h) trains, its own
// validation split is the one reported, images of several channels train the convnet, a file
// written by Python (np.savez when NumPy is installed, else zipfile in np.savez's layout) trains,
// and a bad archive exits 1 naming it.
#include <doctest/doctest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "../tools/run_tool.h"
#include "numpy_files.h"
#include "test_data_files.h"

using namespace nos::testing;

namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::vector<std::string> fast(std::vector<std::string> args) {
  for (const char* a : {"--hidden", "16", "--threads", "1", "--batch-size", "32", "--lr", "0.05"}) args.push_back(a);
  return args;
}

nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in);
}

}  // namespace

TEST_CASE("nos-train --data FILE.npz trains, on the archive's own validation split") {
  std::string dir = temp_dir("cli_npz");
  for (bool deflate : {false, true}) {
    CAPTURE(deflate);
    ZipOptions options;
    options.deflate = deflate;
    std::string npz = write_blobs_npz(dir + (deflate ? "/c.npz" : "/s.npz"), 240, 6, 3, 60, options);
    std::string json = dir + "/out.json";
    ToolResult r = run_tool("nos-train", fast({"--optimizer", "adam", "--data", npz, "--epochs", "3", "--json", json}));
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    nlohmann::json j = read_json(json);
    CHECK(j["status"] == "ok");
    CHECK(j["data"]["train_size"] == 240);  // x and y: all of them train
    CHECK(j["data"]["val_size"] == 60);     // x_val and y_val, not a sixth of x
    CHECK(j["val_acc"].get<double>() > 0.9);
  }
  // Without x_val the validation split is split off x as for any data, and --train-subset applies.
  std::string plain = write_blobs_npz(dir + "/plain.npz", 300, 6, 3);
  ToolResult r = run_tool("nos-train", fast({"--optimizer", "adam", "--data", plain, "--epochs", "1", "--json",
                                             dir + "/plain.json", "--train-subset", "100"}));
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(read_json(dir + "/plain.json")["data"]["train_size"] == 100);
  CHECK(read_json(dir + "/plain.json")["data"]["val_size"] == 50);
}

TEST_CASE("nos-train: uint8 images of shape (N, C, H, W) in .npy files train the convnet") {
  std::string dir = temp_dir("cli_npy_images");
  std::vector<std::uint8_t> pixels;
  std::vector<std::int64_t> labels;
  for (int n = 0; n < 120; ++n) {
    labels.push_back(n % 2);
    for (int p = 0; p < 2 * 8 * 8; ++p) pixels.push_back(static_cast<std::uint8_t>((n % 2) * 150 + (n * 7 + p) % 60));
  }
  write_bytes(dir + "/x.npy", npy_bytes("|u1", {120, 2, 8, 8}, pixels));
  write_bytes(dir + "/y.npy", npy_bytes("<i8", {120}, raw_bytes(labels)));
  std::string json = dir + "/out.json";
  ToolResult r =
      run_tool("nos-train", {"--optimizer", "adam", "--model", "convnet", "--data", dir + "/x.npy," + dir + "/y.npy",
                             "--epochs", "1", "--lr", "0.01", "--threads", "1", "--json", json});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(read_json(json)["data"]["shape"] == nlohmann::json::array({2, 8, 8}));
}

TEST_CASE("nos-train trains on an .npz that Python wrote") {
  if (run_program("/bin/sh", {"-c", "command -v python3"}).exit_code != 0) {
    MESSAGE("skipped: no python3 here (the byte-built .npz tests above do not need it)");
    return;
  }
  std::string dir = temp_dir("cli_python_npz");
  for (std::string mode : {"stored", "compressed"}) {
    CAPTURE(mode);
    std::string npz = dir + "/" + mode + ".npz";
    ToolResult made = run_program("/usr/bin/env", {"python3", source_path("tests/runtime/write_npz.py"), npz, mode});
    INFO(made.err);
    REQUIRE(made.exit_code == 0);
    MESSAGE("written by " << made.out);  // "numpy" where NumPy is installed, else "zipfile"
    std::string json = dir + "/out.json";
    ToolResult r = run_tool("nos-train", fast({"--optimizer", "adam", "--data", npz, "--epochs", "2", "--json", json}));
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(read_json(json)["data"]["train_size"] == 240);
    CHECK(read_json(json)["data"]["val_size"] == 60);
    CHECK(read_json(json)["val_acc"].get<double>() > 0.9);
  }
}

TEST_CASE("nos-train: bad NumPy data exits 1 naming the file") {
  std::string dir = temp_dir("cli_npz_bad");
  std::string npz = dir + "/float.npz";
  write_zip(npz, {{"x.npy", npy_bytes("<f4", {4, 1}, raw_bytes(std::vector<float>{1, 2, 3, 4}))},
                  {"y.npy", npy_bytes("<f4", {4}, raw_bytes(std::vector<float>{0.5f, 1.5f, 2, 3}))}});
  ToolResult r = run_tool("nos-train", {"--optimizer", "adam", "--data", npz, "--lr", "0.1", "--objective", "classification"});
  CHECK(r.exit_code == 1);
  // A float y that is not class numbers is regression targets: classification refuses it.
  CHECK(contains(r.err, npz + ": objective classification needs class labels y: " + npz + ":y.npy: y[0] is 0.5: not a class number"));
  write_text(dir + "/text.npz", "not a zip");
  r = run_tool("nos-train", {"--optimizer", "adam", "--data", dir + "/text.npz", "--lr", "0.1"});
  CHECK(r.exit_code == 1);
  CHECK(contains(r.err, dir + "/text.npz: not an .npz file"));
}
