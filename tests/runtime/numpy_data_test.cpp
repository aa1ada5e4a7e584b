// NumPy data: .npy files and .npz archives built byte by byte (numpy_files.h), what load_dataset
// makes of them, the validation split an .npz brings (x_val, y_val), and every malformed input,
// refused naming the file. Torch-free; nothing downloaded, NumPy not needed.
#include <doctest/doctest.h>

#include <sys/resource.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <numeric>

#include "numpy_files.h"
#include "runtime/data/dataset.h"
#include "runtime/data/idx.h"
#include "runtime/data/npy.h"
#include "runtime/data/npz.h"
#include "test_data_files.h"

using namespace nos::runtime;
using namespace nos::testing;

namespace {

template <class F>
std::string data_error(F&& f) {
  try {
    f();
  } catch (const DataError& e) {
    return e.what();
  }
  FAIL("expected a DataError");
  return "";
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

double peak_rss_mib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024;
}

using Entries = std::vector<std::pair<std::string, std::vector<std::uint8_t>>>;

// 6 examples of 2 features, 3 classes: x = row * 10 + column.
const std::vector<float> kX{0, 1, 10, 11, 20, 21, 30, 31, 40, 41, 50, 51};
const std::vector<std::int64_t> kY{0, 1, 2, 0, 1, 2};

Entries table_entries() {
  return {{"x.npy", npy_bytes("<f4", {6, 2}, raw_bytes(kX))}, {"y.npy", npy_bytes("<i8", {6}, raw_bytes(kY))}};
}

// The error load_dataset gives for a pair X.npy,Y.npy with these bytes.
std::string pair_error(const std::string& dir, const std::vector<std::uint8_t>& x, const std::vector<std::uint8_t>& y) {
  write_bytes(dir + "/x.npy", x);
  write_bytes(dir + "/y.npy", y);
  return data_error([&] { load_dataset(dir + "/x.npy," + dir + "/y.npy"); });
}

}  // namespace

TEST_CASE("an X.npy,Y.npy pair loads as a table, with its values and labels") {
  std::string dir = temp_dir("npy_pair");
  write_bytes(dir + "/x.npy", npy_bytes("<f4", {6, 2}, raw_bytes(kX)));
  write_bytes(dir + "/y.npy", npy_bytes("<i8", {6}, raw_bytes(kY)));
  Dataset data = load_dataset(dir + "/x.npy," + dir + "/y.npy");
  CHECK(data.shape == std::vector<std::int64_t>{2});
  CHECK_FALSE(data.is_image());
  CHECK(data.features == kX);
  CHECK(data.labels == kY);
  CHECK(data.num_classes == 3);
  CHECK(data.given_val == 0);
  CHECK(data.source == dir + "/x.npy, " + dir + "/y.npy");

  // The same data in every dtype and byte order the reader takes gives the same data set.
  std::vector<std::uint8_t> x64 = raw_bytes(std::vector<double>(kX.begin(), kX.end()));
  std::vector<std::uint8_t> big = raw_bytes(kX);
  for (std::size_t i = 0; i < big.size(); i += 4) std::reverse(big.begin() + i, big.begin() + i + 4);
  std::vector<std::uint8_t> big_y = raw_bytes(kY);
  for (std::size_t i = 0; i < big_y.size(); i += 8) std::reverse(big_y.begin() + i, big_y.begin() + i + 8);
  struct Variant {
    std::vector<std::uint8_t> x, y;
  };
  std::vector<Variant> variants{
      {npy_bytes("<f8", {6, 2}, x64), npy_bytes("|u1", {6}, {0, 1, 2, 0, 1, 2})},
      {npy_bytes(">f4", {6, 2}, big), npy_bytes(">i8", {6}, big_y)},
      {npy_bytes("<f4", {6, 2}, raw_bytes(kX), false, 2),
       npy_bytes("<i4", {6, 1}, raw_bytes(std::vector<std::int32_t>{0, 1, 2, 0, 1, 2}))},
      {npy_bytes("<f4", {6, 2}, raw_bytes(kX), false, 3),
       npy_bytes("<f8", {6}, raw_bytes(std::vector<double>{0, 1, 2, 0, 1, 2}))},  // whole-number float labels
      // Fortran order: columns first.
      {npy_bytes("<f4", {6, 2}, raw_bytes(std::vector<float>{0, 10, 20, 30, 40, 50, 1, 11, 21, 31, 41, 51}), true),
       npy_bytes("<u2", {6}, raw_bytes(std::vector<std::uint16_t>{0, 1, 2, 0, 1, 2}))},
  };
  for (std::size_t i = 0; i < variants.size(); ++i) {
    CAPTURE(i);
    write_bytes(dir + "/vx.npy", variants[i].x);
    write_bytes(dir + "/vy.npy", variants[i].y);
    Dataset v = load_dataset(dir + "/vx.npy," + dir + "/vy.npy");
    CHECK(v.features == kX);
    CHECK(v.labels == kY);
  }
  // Bool labels are classes 0 and 1.
  write_bytes(dir + "/b.npy", npy_bytes("|b1", {6}, {0, 1, 1, 0, 1, 0}));
  CHECK(load_dataset(dir + "/x.npy," + dir + "/b.npy").num_classes == 2);
}

TEST_CASE("uint8 inputs of shape (N, H, W) and (N, C, H, W) are images scaled to [0, 1]") {
  std::string dir = temp_dir("npy_images");
  std::vector<std::uint8_t> pixels(4 * 3 * 5);
  std::iota(pixels.begin(), pixels.end(), 0);
  pixels[7] = 255;
  write_bytes(dir + "/y.npy", npy_bytes("<i8", {4}, raw_bytes(std::vector<std::int64_t>{0, 1, 0, 1})));
  write_bytes(dir + "/gray.npy", npy_bytes("|u1", {4, 3, 5}, pixels));
  Dataset gray = load_dataset(dir + "/gray.npy," + dir + "/y.npy");
  CHECK(gray.is_image());
  CHECK(gray.shape == std::vector<std::int64_t>{1, 3, 5});
  CHECK(gray.features[7] == 1.0f);
  CHECK(gray.features[2] == doctest::Approx(2 / 255.0));
  write_bytes(dir + "/rgb.npy", npy_bytes("|u1", {4, 3, 1, 5}, pixels));
  Dataset rgb = load_dataset(dir + "/rgb.npy," + dir + "/y.npy");
  CHECK(rgb.shape == std::vector<std::int64_t>{3, 1, 5});
  CHECK(rgb.features == gray.features);
  // Fortran-order images are transposed to row-major: element (n, h, w) lands where C order puts it.
  std::vector<std::uint8_t> fortran(pixels.size());
  for (int n = 0; n < 4; ++n)
    for (int h = 0; h < 3; ++h)
      for (int w = 0; w < 5; ++w) fortran[n + 4 * (h + 3 * w)] = pixels[(n * 3 + h) * 5 + w];
  write_bytes(dir + "/fortran.npy", npy_bytes("|u1", {4, 3, 5}, fortran, true));
  CHECK(load_dataset(dir + "/fortran.npy," + dir + "/y.npy").features == gray.features);
}

TEST_CASE("an .npz archive loads stored, deflated and with zip64 fields, as np.savez writes it") {
  std::string dir = temp_dir("npz");
  std::vector<ZipOptions> layouts(4);
  layouts[1].deflate = true;          // np.savez_compressed
  layouts[2].zip64_local = false;     // other zip writers
  layouts[3].zip64_directory = true;  // sizes in the directory's zip64 field
  for (std::size_t i = 0; i < layouts.size(); ++i) {
    CAPTURE(i);
    std::string path = dir + "/d" + std::to_string(i) + ".npz";
    write_zip(path, table_entries(), layouts[i]);
    Dataset data = load_dataset(path);
    CHECK(data.features == kX);
    CHECK(data.labels == kY);
    CHECK(data.source == path);
  }
  // Other entries are ignored; the names say which array is which, not their order.
  Entries extra = table_entries();
  std::swap(extra[0], extra[1]);
  extra.push_back({"notes.npy", npy_bytes("<f4", {1}, raw_bytes(std::vector<float>{1}))});
  write_zip(dir + "/extra.npz", extra, {});
  CHECK(load_dataset(dir + "/extra.npz").labels == kY);
}

TEST_CASE("an .npz with x_val and y_val keeps them as the validation split") {
  std::string dir = temp_dir("npz_val");
  std::string path = write_blobs_npz(dir + "/blobs.npz", 300, 4, 3, 60);
  Dataset data = load_dataset(path);
  CHECK(data.size() == 360);
  CHECK(data.given_val == 60);

  SplitOptions options;
  options.seed = 2;
  options.val_fraction = 0.5;  // not used: the file brings its validation split
  Split a = split_dataset(data, options);
  CHECK(a.val.size() == 60);
  CHECK(a.train.size() == 300);
  CHECK(std::equal(a.val.labels.begin(), a.val.labels.end(), data.labels.begin() + 300));  // y_val, in its order
  CHECK(a.train.labels != std::vector<std::int64_t>(data.labels.begin(), data.labels.begin() + 300));  // shuffled
  options.seed = 3;
  Split b = split_dataset(data, options);
  CHECK(b.val.features == a.val.features);  // the seed shuffles the training part only
  CHECK(b.train.labels != a.train.labels);

  // Standardized with the training part's statistics, also in validation.
  double sum = 0, sum_sq = 0, raw_sum = 0, raw_sum_sq = 0;
  for (std::int64_t r = 0; r < 300; ++r) {
    double x = a.train.features[static_cast<std::size_t>(r * 4)];
    double raw = data.features[static_cast<std::size_t>(r * 4)];
    sum += x, sum_sq += x * x, raw_sum += raw, raw_sum_sq += raw * raw;
  }
  CHECK(sum / 300 == doctest::Approx(0).epsilon(1e-4));
  CHECK(sum_sq / 300 == doctest::Approx(1).epsilon(1e-3));
  double mean = raw_sum / 300, sd = std::sqrt(raw_sum_sq / 300 - mean * mean);
  CHECK(a.val.features[0] == doctest::Approx((data.features[300 * 4] - mean) / sd).epsilon(1e-4));

  options.train_subset = 50;
  Split small = split_dataset(data, options);
  CHECK(small.train.size() == 50);
  CHECK(small.val.size() == 60);

  // A validation split of one class is refused, saying whose it is.
  std::vector<float> x_val(8, 1.0f);
  Entries one = table_entries();
  one.push_back({"x_val.npy", npy_bytes("<f4", {4, 2}, raw_bytes(x_val))});
  one.push_back({"y_val.npy", npy_bytes("<i8", {4}, raw_bytes(std::vector<std::int64_t>{1, 1, 1, 1}))});
  write_zip(dir + "/one.npz", one, {});
  CHECK(contains(data_error([&] { split_dataset(load_dataset(dir + "/one.npz"), SplitOptions{}); }),
                 "give an x_val and y_val of several classes"));
}

TEST_CASE("malformed .npy headers are refused naming the file") {
  std::string dir = temp_dir("npy_bad_header");
  std::string path = dir + "/x.npy";
  std::vector<std::uint8_t> data = raw_bytes(kX);
  auto error = [&](const std::vector<std::uint8_t>& bytes) {
    write_bytes(path, bytes);
    std::string message = data_error([&] { read_npy(path); });
    CHECK(contains(message, path + ": "));
    return message;
  };
  auto dict = [&](const std::string& text) { return error(npy_with_header(text, data)); };
  CHECK(contains(error({'P', 'K', 3, 4, 0, 0, 0, 0, 0, 0}), "not a .npy file: it does not start with the magic"));
  CHECK(contains(error({0x93, 'N', 'U', 'M'}), "not a .npy file"));
  CHECK(contains(error({0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 0x40}), "truncated .npy header: no header length"));
  std::vector<std::uint8_t> cut = npy_bytes("<f4", {6, 2}, data);
  cut.resize(30);
  CHECK(contains(error(cut), "truncated .npy header: 118 bytes declared, 20 present"));
  CHECK(contains(error({0x93, 'N', 'U', 'M', 'P', 'Y', 4, 0, 0, 0}), "version 4.0 is not supported"));
  CHECK(
      contains(error({0x93, 'N', 'U', 'M', 'P', 'Y', 2, 0, 0, 0, 0, 1}), "header length 16777216 is over 65536 bytes"));
  for (const char* descr : {"<c8", "|O", "<U3", "<f2", "|S5", "<M8", "f4", "<f16"})
    CHECK(contains(dict(std::string("{'descr': '") + descr + "', 'fortran_order': False, 'shape': (6, 2), }"),
                   std::string("dtype '") + descr + "' is not supported"));
  CHECK(contains(dict("{'descr': '=f4', 'fortran_order': False, 'shape': (6, 2), }"), "native byte order '='"));
  CHECK(contains(dict("{'descr': '|f4', 'fortran_order': False, 'shape': (6, 2), }"), "only valid for 1-byte"));
  CHECK(contains(dict("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (6,), }"), "structured dtypes"));
  CHECK(contains(dict("{'descr': '<f4', 'shape': (6, 2), }"), "no 'fortran_order' key"));
  CHECK(contains(dict("{'descr': '<f4', 'fortran_order': False, 'shape': (6, 2), 'extra': 1}"),
                 "unexpected key 'extra'"));
  CHECK(contains(dict("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (6, 2)}"),
                 "'descr' given twice"));
  CHECK(contains(dict("{'descr': '<f4', 'fortran_order': 0, 'shape': (6, 2)}"), "must be True or False"));
  CHECK(contains(dict("{'descr': '<f4', 'fortran_order': False, 'shape': (12)}"), "(N) is not a tuple"));
  CHECK(contains(dict("{'descr': '<f4', 'fortran_order': False, 'shape': (6, -2)}"), "non-negative integers"));
  CHECK(contains(dict("{'descr': '<f4', 'fortran_order': False, 'shape': [6, 2]}"), "must be a tuple"));
  CHECK(contains(dict("{'descr': '<f4', 'fortran_order': False, 'shape': (6, 2)} junk"), "text after the closing"));
  CHECK(contains(dict("{'descr': '<f4' 'fortran_order': False, 'shape': (6, 2)}"), "expected ',' or '}'"));
  CHECK(contains(dict("'descr': '<f4'"), "expected '{'"));
}

TEST_CASE("a .npy whose declared shape is not what the file holds is refused before its data is read") {
  std::string dir = temp_dir("npy_sizes");
  std::string path = dir + "/x.npy";
  std::vector<std::uint8_t> data = raw_bytes(kX);
  write_bytes(path, npy_bytes("<f4", {6, 3}, data));
  CHECK(contains(data_error([&] { read_npy(path); }),
                 path +
                     ": the .npy header declares shape (6, 3) of <f4: 72 bytes of data, but 48 follow the header (the "
                     "file is truncated)"));
  write_bytes(path, npy_bytes("<f4", {5, 2}, data));
  CHECK(contains(data_error([&] { read_npy(path); }), "40 bytes of data, but 48 follow the header (trailing data)"));
  write_bytes(path, npy_bytes("<f8", {1 << 21, 1 << 20}, data));
  CHECK(contains(data_error([&] { read_npy(path); }), "more than 2^40 elements"));
  write_bytes(path, npy_bytes("<f4", {1 << 18, 1 << 18}, data));
  CHECK(contains(data_error([&] { read_npy(path); }), "274877906944 bytes of data, but 48 follow the header"));

  // A file that does hold what its header declares (sparse: no disk used), more than any machine's
  // memory once loaded (2^40 bytes, 10 TiB loaded): refused before a byte of data is read.
  std::string sparse = dir + "/sparse.npy";
  write_bytes(sparse, npy_bytes("|u1", {1 << 20, 1 << 20}, {}));
  std::filesystem::resize_file(sparse, std::filesystem::file_size(sparse) + (std::uint64_t{1} << 40));
  double before = peak_rss_mib();
  std::string message = data_error([&] { read_npy(sparse); });
  CHECK(contains(message, sparse + ": the .npy header declares shape (1048576, 1048576) of |u1, 10240.0 GiB once loaded"));
  CHECK(contains(message, "GiB of memory"));
  CHECK(peak_rss_mib() - before < 32);
  std::filesystem::remove(sparse);  // a 1 TiB file, even a sparse one, should not outlive the test
}

TEST_CASE("NumPy arrays that do not make a classification data set are refused naming the file") {
  std::string dir = temp_dir("npy_bad_data");
  std::vector<std::uint8_t> x = npy_bytes("<f4", {6, 2}, raw_bytes(kX));
  auto y_of = [](std::vector<std::int64_t> y) {
    return npy_bytes("<i8", {static_cast<std::int64_t>(y.size())}, raw_bytes(y));
  };
  std::string y_path = dir + "/y.npy", x_path = dir + "/x.npy";
  CHECK(contains(pair_error(dir, x, y_of({0, 1, 2, 0, 1})),
                 y_path + ": y holds 5 labels, but " + x_path + " holds 6 examples"));
  CHECK(contains(pair_error(dir, x, y_of({0, 1, -1, 0, 1, 2})), y_path + ": y[2] is -1: class labels must be 0, 1, 2"));
  CHECK(contains(pair_error(dir, x, y_of({3, 3, 3, 3, 3, 3})), y_path + ": all 6 labels are class 3"));
  CHECK(contains(pair_error(dir, x, y_of({0, 1, 2000000, 0, 1, 2})), "y[2] is 2000000: a class number over 1e+06"));
  CHECK(contains(pair_error(dir, x, npy_bytes("<i8", {3, 2}, raw_bytes(kY))),
                 "y holds 3 labels, but " + x_path + " holds 6 examples"));
  CHECK(contains(pair_error(dir, x, npy_bytes("<i8", {6, 2}, raw_bytes(std::vector<std::int64_t>(12, 1)))),
                 "y has shape (6, 2): class labels must be one class number per example"));
  CHECK(contains(pair_error(dir, npy_bytes("|b1", {6, 2}, std::vector<std::uint8_t>(12)), y_of(kY)),
                 x_path + ": x has dtype '|b1': inputs must be float32, float64, uint8 or integer token ids"));
  CHECK(
      contains(pair_error(dir, npy_bytes("<f4", {12}, raw_bytes(kX)), y_of(kY)), "x has shape (12,): inputs must be"));
  CHECK(contains(pair_error(dir, npy_bytes("<f4", {0, 2}, {}), y_of({})), "x has shape (0, 2): no examples"));
  std::vector<float> nan_x = kX;
  nan_x[5] = NAN;
  CHECK(contains(pair_error(dir, npy_bytes("<f4", {6, 2}, raw_bytes(nan_x)), y_of(kY)), "x row 2 holds nan"));

  // Specs: a list of 3 .npy files, or a missing one.
  CHECK(contains(data_error([&] { load_dataset(x_path + "," + y_path + "," + y_path); }),
                 "3 .npy file(s); give X.npy,Y.npy"));
  CHECK(contains(data_error([&] { load_dataset(x_path + "," + dir + "/none.npy"); }), dir + "/none.npy: cannot open"));
  CHECK(contains(data_error([&] { load_dataset(dir + "/none.npz"); }), dir + "/none.npz: cannot open"));

  // .npz: missing y, half a validation split, examples of another shape in x_val.
  write_zip(dir + "/no_y.npz", {table_entries()[0]}, {});
  CHECK(contains(data_error([&] { load_dataset(dir + "/no_y.npz"); }),
                 dir + "/no_y.npz: no array 'y' (y.npy) in the archive; it holds x.npy"));
  Entries half = table_entries();
  half.push_back({"x_val.npy", x});
  write_zip(dir + "/half.npz", half, {});
  CHECK(contains(data_error([&] { load_dataset(dir + "/half.npz"); }), "has x_val but no y_val"));
  half.push_back({"y_val.npy", npy_bytes("<i8", {2}, raw_bytes(std::vector<std::int64_t>{0, 1}))});
  half[2].second = npy_bytes("<f4", {2, 3}, raw_bytes(std::vector<float>(6)));
  write_zip(dir + "/shape.npz", half, {});
  CHECK(contains(data_error([&] { load_dataset(dir + "/shape.npz"); }),
                 dir + "/shape.npz:x_val.npy: x_val has shape (2, 3), but x has (6, 2)"));
  // An entry's own errors name the archive and the entry.
  Entries bad = table_entries();
  bad[1].second = npy_bytes("<i8", {7}, raw_bytes(kY));
  write_zip(dir + "/bad.npz", bad, {});
  CHECK(contains(data_error([&] { load_dataset(dir + "/bad.npz"); }),
                 dir + "/bad.npz:y.npy: the .npy header declares shape (7,)"));
}

TEST_CASE("malformed .npz archives are refused naming the file") {
  std::string dir = temp_dir("npz_bad");
  auto error = [&](const std::string& name, const ZipOptions& options) {
    std::string path = dir + "/" + name + ".npz";
    write_zip(path, table_entries(), options);
    return data_error([&] { load_dataset(path); });
  };
  ZipOptions encrypted, bzip2, crc, deflated_crc;
  encrypted.flags = 1;
  bzip2.method = 12;
  crc.bad_crc = true;
  deflated_crc.bad_crc = deflated_crc.deflate = true;
  CHECK(contains(error("encrypted", encrypted), "encrypted.npz:x.npy: an encrypted zip entry is not supported"));
  CHECK(contains(error("bzip2", bzip2), "zip compression method 12 is not supported"));
  CHECK(contains(error("crc", crc), "crc.npz:x.npy: CRC-32"));
  CHECK(contains(error("deflated_crc", deflated_crc), "does not match the zip directory's"));

  write_text(dir + "/text.npz", "this is not a zip archive at all, only text");
  CHECK(contains(data_error([&] { load_dataset(dir + "/text.npz"); }), dir + "/text.npz: not an .npz file"));
  // Cut short: the end record is gone.
  write_zip(dir + "/whole.npz", table_entries(), {});
  std::vector<std::uint8_t> bytes = read_bytes(dir + "/whole.npz");
  write_bytes(dir + "/cut.npz", std::vector<std::uint8_t>(bytes.begin(), bytes.begin() + 200));
  CHECK(contains(data_error([&] { load_dataset(dir + "/cut.npz"); }), "cut.npz: not an .npz file"));
  // A zip64 end record (archives over 4 GiB): its locator sits before the end record.
  std::vector<std::uint8_t> zip64(bytes.begin(), bytes.end() - 22);
  for (std::uint8_t b : {0x50, 0x4b, 0x06, 0x07}) zip64.push_back(b);
  zip64.resize(zip64.size() + 16, 0);
  zip64.insert(zip64.end(), bytes.end() - 22, bytes.end());
  write_bytes(dir + "/zip64.npz", zip64);
  CHECK(contains(data_error([&] { load_dataset(dir + "/zip64.npz"); }),
                 "a zip64 archive (over 4 GiB or 65535 entries) is not supported"));
  // The central directory's offset pointing past the end record.
  std::vector<std::uint8_t> moved = bytes;
  moved[moved.size() - 3] ^= 0x01;  // the offset's high byte: 16 MiB further
  write_bytes(dir + "/moved.npz", moved);
  CHECK(contains(data_error([&] { load_dataset(dir + "/moved.npz"); }), "runs past its end record"));

  // Deflate data that inflates to more than the directory declares (a zip bomb), and corrupt data.
  ZipOptions deflate;
  deflate.deflate = true;
  write_zip(dir + "/d.npz", table_entries(), deflate);
  std::vector<std::uint8_t> d = read_bytes(dir + "/d.npz");
  std::vector<std::uint8_t> corrupt = d;
  corrupt[90] ^= 0xFF;  // inside x.npy's deflate stream
  write_bytes(dir + "/corrupt.npz", corrupt);
  std::string message = data_error([&] { load_dataset(dir + "/corrupt.npz"); });
  CHECK(contains(message, dir + "/corrupt.npz:x.npy: "));
}

TEST_CASE("a deflated .npz entry is inflated no further than its declared size") {
  std::string dir = temp_dir("npz_bomb");
  // y.npy declares 6 labels but its deflate stream holds 16 MiB of zeros after them.
  std::vector<std::uint8_t> y = npy_bytes("<i8", {6}, raw_bytes(kY));
  const auto declared = static_cast<std::int64_t>(y.size());
  y.resize(y.size() + (std::size_t{16} << 20), 0);
  ZipOptions deflate;
  deflate.deflate = true;
  Entries entries{table_entries()[0], {"y.npy", y}};
  // The directory tells the truth: the .npy header's shape disagrees with it, before any data is read.
  write_zip(dir + "/long.npz", entries, deflate);
  CHECK(read_bytes(dir + "/long.npz").size() < (std::size_t{1} << 20));
  CHECK(contains(data_error([&] { load_dataset(dir + "/long.npz"); }),
                 dir + "/long.npz:y.npy: the .npy header declares shape (6,) of <i8: 48 bytes of data, but 16777264 "
                       "follow the header (trailing data)"));
  // The directory lies: inflating stops one byte past what it declares.
  deflate.declared_size = declared;
  write_zip(dir + "/bomb.npz", entries, deflate);
  CHECK(contains(data_error([&] { load_dataset(dir + "/bomb.npz"); }),
                 dir + "/bomb.npz:y.npy: inflates to more than the " + std::to_string(declared) +
                     " bytes the zip directory declares"));
  // And a stream shorter than it declares is truncated.
  std::vector<std::uint8_t> x = npy_bytes("<f4", {6, 3}, raw_bytes(kX));  // 24 bytes short of its shape
  deflate.declared_size = static_cast<std::int64_t>(x.size()) + 24;
  write_zip(dir + "/short.npz", {{"x.npy", x}}, deflate);
  CHECK(contains(data_error([&] { load_dataset(dir + "/short.npz"); }),
                 "short.npz:x.npy: expected 72 bytes of array data, got 48 (truncated)"));
}

TEST_CASE("integer inputs of shape (N, L) are token sequences: ids kept exact, never scaled or standardized") {
  std::string dir = temp_dir("npy_tokens");
  // 8 sequences of 3 tokens; ids up to 2^20 - 1, which float32 holds exactly.
  const std::int64_t big = kMaxVocabulary - 1;
  std::vector<std::int64_t> ids{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, big};
  std::vector<std::int64_t> y{0, 1, 0, 1, 0, 1, 0, 1};
  auto y_bytes = npy_bytes("<i8", {8}, raw_bytes(y));
  for (const char* descr : {"<i2", "<i4", "<i8", "<u2", "<u4", "|i1"}) {
    CAPTURE(descr);
    std::vector<std::uint8_t> x_bytes;
    std::string d = descr;
    std::vector<std::int64_t> these = ids;
    if (d == "<i2" || d == "<u2" || d == "|i1") these.back() = 23;  // what the narrower types hold
    if (d == "<i2") x_bytes = raw_bytes(std::vector<std::int16_t>(these.begin(), these.end()));
    if (d == "<u2") x_bytes = raw_bytes(std::vector<std::uint16_t>(these.begin(), these.end()));
    if (d == "|i1") x_bytes = raw_bytes(std::vector<std::int8_t>(these.begin(), these.end()));
    if (d == "<i4") x_bytes = raw_bytes(std::vector<std::int32_t>(these.begin(), these.end()));
    if (d == "<u4") x_bytes = raw_bytes(std::vector<std::uint32_t>(these.begin(), these.end()));
    if (d == "<i8") x_bytes = raw_bytes(these);
    write_zip(dir + "/t.npz", {{"x.npy", npy_bytes(descr, {8, 3}, x_bytes)}, {"y.npy", y_bytes}});
    Dataset data = load_dataset(dir + "/t.npz");
    CHECK(data.is_sequence());
    CHECK_FALSE(data.is_image());
    CHECK(data.shape == std::vector<std::int64_t>{3});
    CHECK(data.vocabulary == these.back() + 1);
    REQUIRE(data.features.size() == these.size());
    for (std::size_t i = 0; i < these.size(); ++i) CHECK(data.features[i] == static_cast<float>(these[i]));
    // The split takes rows as they are: every value is still one of the ids, a whole number.
    Split split = split_dataset(data, SplitOptions{0.5, 0, 3});
    CHECK(split.train.vocabulary == data.vocabulary);
    CHECK(split.val.vocabulary == data.vocabulary);
    for (const Dataset* part : {&split.train, &split.val})
      for (float v : part->features) CHECK(std::find(these.begin(), these.end(), static_cast<std::int64_t>(v)) != these.end());
  }
  // The vocabulary covers x_val's ids too.
  write_zip(dir + "/val.npz", {{"x.npy", npy_bytes("<i8", {8, 3}, raw_bytes(std::vector<std::int64_t>(24, 1)))},
                               {"y.npy", y_bytes},
                               {"x_val.npy", npy_bytes("<i8", {2, 3}, raw_bytes(std::vector<std::int64_t>{0, 1, 40, 2, 3, 4}))},
                               {"y_val.npy", npy_bytes("<i8", {2}, raw_bytes(std::vector<std::int64_t>{0, 1}))}});
  CHECK(load_dataset(dir + "/val.npz").vocabulary == 41);
  // uint8 stays an image's pixels (and a table of them), as before: scaled, no vocabulary.
  write_zip(dir + "/u8.npz", {{"x.npy", npy_bytes("|u1", {8, 3}, std::vector<std::uint8_t>(24, 255))}, {"y.npy", y_bytes}});
  Dataset pixels = load_dataset(dir + "/u8.npz");
  CHECK_FALSE(pixels.is_sequence());
  CHECK(pixels.features[0] == 1.0f);
}

TEST_CASE("token ids that are not a sequence of ids are refused naming the file") {
  std::string dir = temp_dir("npy_bad_tokens");
  auto y_bytes = npy_bytes("<i8", {4}, raw_bytes(std::vector<std::int64_t>{0, 1, 0, 1}));
  auto error = [&](const std::vector<std::pair<std::string, std::vector<std::uint8_t>>>& entries) {
    write_zip(dir + "/t.npz", entries);
    return data_error([&] { load_dataset(dir + "/t.npz"); });
  };
  std::vector<std::int64_t> ids{0, 1, 2, 3, 4, 5, 6, -1};
  CHECK(contains(error({{"x.npy", npy_bytes("<i8", {4, 2}, raw_bytes(ids))}, {"y.npy", y_bytes}}),
                 dir + "/t.npz:x.npy: x row 3 holds token id -1: token ids must be 0 .. 1048575"));
  ids.back() = kMaxVocabulary;
  CHECK(contains(error({{"x.npy", npy_bytes("<i8", {4, 2}, raw_bytes(ids))}, {"y.npy", y_bytes}}),
                 "x row 3 holds token id 1048576: token ids must be 0 .. 1048575"));
  ids.back() = 7;
  CHECK(contains(error({{"x.npy", npy_bytes("<i8", {4, 1, 2}, raw_bytes(ids))}, {"y.npy", y_bytes}}),
                 "x has shape (4, 1, 2) and dtype '<i8': integer inputs are token ids and must be (N, length)"));
  CHECK(contains(error({{"x.npy", npy_bytes("<i8", {4, 2}, raw_bytes(ids))},
                        {"y.npy", y_bytes},
                        {"x_val.npy", npy_bytes("<f4", {1, 2}, raw_bytes(std::vector<float>{0, 1}))},
                        {"y_val.npy", npy_bytes("<i8", {1}, raw_bytes(std::vector<std::int64_t>{0}))}}),
                 "x_val has dtype '<f4', but x has '<i8': both must be token ids (integers) or neither"));
}
