// A chaos matrix: the cells of `faultline matrix FILE`. A matrix file names axes (scenario
// files, environment files, --set values, rates, seed labels); its cells are their cartesian
// product, minus `exclude`, plus `include`. Each cell is one `faultline run` with a stable ID,
// a seed derived from the matrix seed and the cell's coordinates, and what it must do
// (expect pass or fail). Loading and expansion are pure: the same file gives the same cells,
// the same argv and so the same plans and plan hashes. The format is docs/matrix.md.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "spec/diagnostic.h"

namespace faultline::matrix {

enum class Expect { kPass, kFail };
const char* to_string(Expect e);  // "pass", "fail"

// One run of the matrix. Invariant: `id` is unique within its matrix.
struct Cell {
  std::string id;              // "latency-tail.local.LATENCY=500ms.s1" (docs/matrix.md)
  std::string scenario;        // name: the spec file's name without .yaml
  std::string spec_path;       // as faultline run takes it (relative to the working directory)
  std::string env;             // name: the env file's name without .yaml; "spec": the spec's own
  std::string env_path;        // empty: the spec's own environment (no --env)
  bool env_shareable = false;  // a URL environment several cells may use at once
  std::map<std::string, std::string> sets;  // --set NAME=VALUE
  std::string rate;                         // --qps; empty: the spec's rate
  std::string seed_label;                   // "1", "2", ... or "spec"
  std::optional<uint64_t> seed;             // --seed; nullopt for seed label "spec"
  Expect expect = Expect::kPass;

  // `faultline run ...` for this cell, argv[0] = "faultline" (no --artifacts/--progress).
  std::vector<std::string> run_argv() const;
};

struct Matrix {
  std::string name;
  std::string file;
  uint64_t seed = 0;
  std::vector<Cell> cells;  // product order (axes as in the file), then include order
};

struct MatrixLoad {
  std::optional<Matrix> matrix;  // set only when there is no error
  std::vector<Diagnostic> diagnostics;
  bool ok() const { return matrix.has_value(); }
};

// Reads, checks (schema and semantics, every problem at file:line:col) and expands a matrix.
// Relative paths in it resolve against the matrix file's folder, lexically.
MatrixLoad load_matrix(const std::string& path);
MatrixLoad load_matrix_text(const std::string& text, const std::string& virtual_path);

// The seed of a cell: the top 53 bits of mix64(fnv1a64(key, mix64(matrix_seed))), where key is
// the cell's coordinates without its seed label, a '\n', then the label. Below 2^53 so JSON
// readers keep it exact.
uint64_t derive_cell_seed(uint64_t matrix_seed, const std::string& coordinates,
                          const std::string& seed_label);

}  // namespace faultline::matrix

namespace faultline {

// The JSON Schema of matrix files (schemas/matrix.schema.json), compiled in.
std::string_view matrix_schema_json();
// The JSON Schema of the matrix artifact (schemas/matrix-report.schema.json), compiled in.
std::string_view matrix_report_schema_json();

}  // namespace faultline
