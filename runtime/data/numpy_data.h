// Data sets from NumPy arrays (npy.h, npz.h): inputs `x` and class labels `y`, and optionally a
// validation split of the user's own, `x_val` and `y_val`. Torch-free.
//   x   float32, float64 or uint8 (scaled to [0, 1], as IDX images are); shape (N, F) is a table
//       of F features, (N, H, W) one-channel images, (N, C, H, W) images of C channels. Any other
//       integer dtype (int8 .. int64, uint16 .. uint64) is token ids: shape (N, L), N sequences of
//       L tokens, ids 0 .. kMaxVocabulary - 1, kept exact (Dataset::vocabulary = the largest id
//       + 1, over x and x_val). uint8 stays an image's pixels, as before.
//   y   shape (N,) or (N, 1): integer or bool class labels 0 .. 10^6, or float values: class labels
//       when every value is a whole number, else regression targets; shape (N, K): K regression
//       targets per example. Every y is also kept as float targets (Dataset::targets), so the
//       task's objective may read either (objective.h). Token sequences (integer x) may come
//       without y: data for the lm objective, each position predicting the next.
// Every error names the file, or the archive and its entry ("data.npz:y.npy").
#pragma once

#include <string>

#include "runtime/data/dataset.h"

namespace nos::runtime {

struct NumpyData {
  Dataset data;        // x then x_val, with data.given_val = x_val's rows
  std::string labels;  // where the labels came from, for load_dataset's check of the classes
};

// FILE.npz with entries x.npy, y.npy and optionally x_val.npy, y_val.npy (np.savez or
// np.savez_compressed with x=..., y=...).
NumpyData load_npz(const std::string& path);

// Whether `spec` is a list of .npy files: "X.npy,Y.npy" or "X.npy,Y.npy,X_VAL.npy,Y_VAL.npy".
bool is_npy_spec(const std::string& spec);
// Loads such a list; a list of any other length is a DataError.
NumpyData load_npy_files(const std::string& spec);

}  // namespace nos::runtime
