#include "matrix/matrix_run.h"

#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include <cctype>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <set>
#include <thread>

#include "common/file_io.h"
#include "common/json_out.h"
#include "common/json_parse.h"
#include "proc/child_process.h"
#include "report/junit.h"
#include "spec/loader.h"

namespace faultline::matrix {

namespace fs = std::filesystem;

int MatrixResult::exit_code() const {
  if (interrupted) return 130;
  for (const auto& c : cells)
    if (!c.met) return 1;
  return 0;
}

namespace {

std::string utc_now(const char* format) {
  const time_t now = time(nullptr);
  struct tm tm {};
  gmtime_r(&now, &tm);
  char buf[64];
  strftime(buf, sizeof buf, format, &tm);
  return buf;
}

// The environment a cell must have to itself: a URL environment (one service faultline does
// not start) that the matrix does not declare shareable. Empty when the cell can run beside
// any other (its services are started on free ports per run).
std::string exclusive_env(const Cell& cell) {
  if (cell.env_shareable) return {};
  LoadOptions o;
  o.variables = cell.sets;
  o.environment_file = cell.env_path;
  ScenarioLoad load = load_scenario(cell.spec_path, o);
  if (!load.ok()) return {};  // the run reports why
  for (const auto& s : load.environment->services)
    if (!s.url.empty()) return load.scenario->environment;
  return {};
}

// A cell ID as one folder name: values may hold '/' or spaces.
std::string folder_name(const std::string& id) {
  std::string out = id;
  for (char& ch : out) {
    const bool ok = std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '_' ||
                    ch == '-' || ch == '=';
    if (!ok) ch = '_';
  }
  return out;
}

std::string find_artifact(const std::string& dir) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (e.is_regular_file() && name.rfind("incident-", 0) == 0 && e.path().extension() == ".json")
      return e.path().string();
  }
  return {};
}

CellRun run_once(const Cell& cell, const std::string& dir, const MatrixRunOptions& options) {
  CellRun run;
  fs::create_directories(dir);
  run.log = dir + "/run.log";
  ChildSpec spec;
  std::vector<std::string> argv = cell.run_argv();
  argv[0] = options.self_exe;
  argv.insert(argv.end(), {"--artifacts", dir, "--progress", "lines"});
  argv.insert(argv.end(), options.extra_run_args.begin(), options.extra_run_args.end());
  if (std::find(options.extra_run_args.begin(), options.extra_run_args.end(), "--push") !=
      options.extra_run_args.end())
    argv.insert(argv.end(), {"--push-label", "cell=" + cell.id});
  spec.argv = argv;
  spec.stdout_path = run.log;
  const auto start = std::chrono::steady_clock::now();
  try {
    ChildProcess child = ChildProcess::spawn(spec);
    std::optional<int> status;
    bool signalled = false;
    while (!(status = child.wait_for_exit(std::chrono::milliseconds(200)))) {
      if (!signalled && options.stop && options.stop->load()) {
        child.send_signal(SIGTERM);  // the run undoes its faults and exits 130
        signalled = true;
      }
    }
    child.stop();
    run.exit_code = WIFEXITED(*status) ? WEXITSTATUS(*status) : 128 + WTERMSIG(*status);
  } catch (const std::exception& e) {
    run.error = e.what();
    run.exit_code = 3;
  }
  run.duration_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  run.artifact = find_artifact(dir);
  run.status = "error";
  if (!run.artifact.empty()) read_run_artifact(run.artifact, &run);
  if (run.exit_code != 0 && run.exit_code != 1 && run.error.empty()) {
    const std::string text = read_whole_file(run.log).value_or("");
    run.error = text.size() > 1500 ? text.substr(text.size() - 1500) : text;
  }
  return run;
}

}  // namespace

bool read_run_artifact(const std::string& path, CellRun* run) {
  const auto text = read_whole_file(path);
  rapidjson::Document doc;
  if (!text || !parse_json(*text, &doc) || !doc.IsObject()) return false;
  if (doc.HasMember("status") && doc["status"].IsString()) run->status = doc["status"].GetString();
  run->failed_assertions.clear();
  if (doc.HasMember("assertions") && doc["assertions"].IsArray()) {
    for (const auto& a : doc["assertions"].GetArray()) {
      if (!a.IsObject() || !a.HasMember("status") || !a["status"].IsString()) continue;
      const std::string status = a["status"].GetString();
      if (status == "pass") continue;
      std::string line =
          (status == "fail" ? "FAIL " : "INCONCLUSIVE ") +
          std::string(a.HasMember("text") && a["text"].IsString() ? a["text"].GetString() : "?");
      if (a.HasMember("message") && a["message"].IsString() && a["message"].GetStringLength())
        line += ": " + std::string(a["message"].GetString());
      run->failed_assertions.push_back(line);
    }
  }
  return true;
}

MatrixResult run_matrix(const Matrix& m, const std::vector<Cell>& cells,
                        const MatrixRunOptions& options, std::FILE* out) {
  MatrixResult r;
  r.name = m.name;
  r.file = m.file;
  r.seed = m.seed;
  r.started_at = utc_now("%Y-%m-%dT%H:%M:%SZ");
  r.jobs = std::max(1, options.jobs);
  r.repeat = std::max(1, options.repeat);
  r.dir = options.artifacts_dir + "/matrix-" + m.name + "-" + utc_now("%Y%m%dT%H%M%SZ");
  fs::create_directories(r.dir);
  for (const auto& c : cells) r.cells.push_back(CellResult{c, {}, 0, false, false, 0});
  for (auto& c : r.cells) c.runs.resize(static_cast<size_t>(r.repeat));

  struct Task {
    size_t cell;
    int repeat;
    std::string exclusive;  // env file this task must have alone; empty: none
  };
  std::vector<Task> tasks;
  for (size_t i = 0; i < cells.size(); ++i) {
    const std::string ex = exclusive_env(cells[i]);
    for (int k = 0; k < r.repeat; ++k) tasks.push_back({i, k, ex});
  }

  std::mutex mu;
  std::condition_variable cv;
  std::vector<bool> taken(tasks.size(), false);
  std::set<std::string> busy;
  size_t done = 0;
  const auto start = std::chrono::steady_clock::now();
  auto worker = [&] {
    while (true) {
      size_t t = tasks.size();
      {
        std::unique_lock<std::mutex> lock(mu);
        while (true) {
          bool left = false;
          for (size_t i = 0; i < tasks.size(); ++i) {
            if (taken[i]) continue;
            left = true;
            if (!tasks[i].exclusive.empty() && busy.count(tasks[i].exclusive)) continue;
            t = i;
            break;
          }
          if (!left) return;
          if (options.stop && options.stop->load()) return;
          if (t < tasks.size()) break;
          cv.wait_for(lock, std::chrono::milliseconds(200));  // also to notice stop
        }
        taken[t] = true;
        if (!tasks[t].exclusive.empty()) busy.insert(tasks[t].exclusive);
      }
      const Task& task = tasks[t];
      const Cell& cell = cells[task.cell];
      const std::string dir =
          r.dir + "/" + folder_name(cell.id) + "/r" + std::to_string(task.repeat + 1);
      CellRun run = run_once(cell, dir, options);
      {
        std::lock_guard<std::mutex> lock(mu);
        ++done;
        std::fprintf(out, "[%zu/%zu] %s run %d: exit %d (%s) in %.1fs\n", done, tasks.size(),
                     cell.id.c_str(), task.repeat + 1, run.exit_code, run.status.c_str(),
                     run.duration_s);
        std::fflush(out);
        r.cells[task.cell].runs[static_cast<size_t>(task.repeat)] = std::move(run);
        if (!task.exclusive.empty()) busy.erase(task.exclusive);
      }
      cv.notify_all();
    }
  };
  std::vector<std::thread> threads;
  for (int j = 0; j < std::min<int>(r.jobs, static_cast<int>(tasks.size())); ++j)
    threads.emplace_back(worker);
  for (auto& t : threads) t.join();
  r.duration_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.interrupted = options.stop && options.stop->load();

  for (auto& c : r.cells) {
    bool any_fail = false;
    c.met = true;
    for (const auto& run : c.runs) {
      c.duration_s += run.duration_s;
      if (run.exit_code == 0) ++c.passes;
      if (run.exit_code == 1) any_fail = true;
      const int wanted = c.cell.expect == Expect::kPass ? 0 : 1;
      if (run.exit_code != wanted) c.met = false;
    }
    c.flaky = c.passes > 0 && any_fail;
  }
  return r;
}

namespace {

std::string result_word(const CellResult& c) {
  std::string w = c.met ? "met" : "UNMET";
  if (c.flaky) w += " (flaky)";
  return w;
}

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

// Why a cell did not meet its expect, in one line, naming the failed assertions.
std::string unmet_message(const CellResult& c) {
  const size_t k = c.runs.size();
  if (c.cell.expect == Expect::kFail) {
    return "expected fail (negative control), but " + std::to_string(c.passes) + " of " +
           std::to_string(k) + " runs passed";
  }
  std::string msg = "expected pass, " + std::to_string(k - static_cast<size_t>(c.passes)) + " of " +
                    std::to_string(k) + " runs did not pass";
  std::set<std::string> seen;
  for (const auto& run : c.runs) {
    if (run.exit_code != 0 && run.exit_code != 1) {
      const std::string e = "exit " + std::to_string(run.exit_code) + " (" + run.status + ")";
      if (seen.insert(e).second) msg += "; " + e;
    }
    for (const auto& a : run.failed_assertions)
      if (seen.insert(a).second) msg += "; " + a;
  }
  return msg;
}

bool has_error_run(const CellResult& c) {
  for (const auto& run : c.runs)
    if (run.exit_code != 0 && run.exit_code != 1) return true;
  return false;
}

}  // namespace

std::string summary_table(const MatrixResult& r) {
  size_t w = 4;
  for (const auto& c : r.cells) w = std::max(w, c.cell.id.size());
  std::string s;
  char line[2048];
  std::snprintf(line, sizeof line, "%-*s  %-6s  %-14s  %9s  %9s  %s\n", int(w), "cell", "expect",
                "result", "pass rate", "duration", "artifact");
  s += line;
  size_t met = 0, flaky = 0;
  for (const auto& c : r.cells) {
    met += c.met;
    flaky += c.flaky;
    const std::string rate = std::to_string(c.passes) + "/" + std::to_string(c.runs.size());
    const std::string artifact = c.runs.empty() ? "" : c.runs.back().artifact;
    std::snprintf(line, sizeof line, "%-*s  %-6s  %-14s  %9s  %8.1fs  %s\n", int(w),
                  c.cell.id.c_str(), to_string(c.cell.expect), result_word(c).c_str(), rate.c_str(),
                  c.duration_s, artifact.empty() ? "-" : artifact.c_str());
    s += line;
  }
  s += "\n" + std::to_string(met) + " of " + std::to_string(r.cells.size()) +
       " cells met their expect, " + std::to_string(flaky) + " flaky, in " +
       fmt("%.1f", r.duration_s) + "s\n";
  return s;
}

namespace {
void cell_fields(JsonOut& j, const Cell& c) {
  j.member("id", c.id);
  j.member("scenario", c.scenario);
  j.member("spec", c.spec_path);
  j.member("env", c.env);
  j.member("env_file", c.env_path);
  j.key("sets").begin_object();
  for (const auto& [k, v] : c.sets) j.member(k, v);
  j.end_object();
  j.member("rate", c.rate);
  j.member("seed_label", c.seed_label);
  j.key("seed");
  if (c.seed)
    j.value(*c.seed);
  else
    j.null();
  j.member("expect", std::string(to_string(c.expect)));
}
}  // namespace

std::string cells_json(const Matrix& m, const std::vector<Cell>& cells) {
  JsonOut j;
  j.begin_object();
  j.member("matrix", m.name);
  j.member("file", m.file);
  j.member("seed", m.seed);
  j.key("cells").begin_array();
  for (const auto& c : cells) {
    j.begin_object();
    cell_fields(j, c);
    j.key("argv").begin_array();
    for (const auto& a : c.run_argv()) j.value(a);
    j.end_array();
    j.end_object();
  }
  j.end_array();
  j.end_object();
  return j.text();
}

std::string matrix_report_json(const MatrixResult& r) {
  JsonOut j;
  j.begin_object();
  j.member("schema_version", int64_t{1});
  j.member("matrix", r.name);
  j.member("file", r.file);
  j.member("seed", r.seed);
  j.member("started_at", r.started_at);
  j.member("duration_s", r.duration_s);
  j.member("jobs", int64_t{r.jobs});
  j.member("repeat", int64_t{r.repeat});
  j.member("dir", r.dir);
  j.member("exit_code", int64_t{r.exit_code()});
  j.member("interrupted", r.interrupted);
  size_t met = 0, flaky = 0;
  for (const auto& c : r.cells) {
    met += c.met;
    flaky += c.flaky;
  }
  j.key("summary").begin_object();
  j.member("cells", uint64_t{r.cells.size()});
  j.member("met", uint64_t{met});
  j.member("unmet", uint64_t{r.cells.size() - met});
  j.member("flaky", uint64_t{flaky});
  j.end_object();
  j.key("cells").begin_array();
  for (const auto& c : r.cells) {
    j.begin_object();
    cell_fields(j, c.cell);
    j.member("met", c.met);
    j.member("flaky", c.flaky);
    j.member("pass_rate", c.pass_rate());
    j.member("duration_s", c.duration_s);
    j.member("message", c.met ? std::string() : unmet_message(c));
    j.key("runs").begin_array();
    for (const auto& run : c.runs) {
      j.begin_object();
      j.member("exit_code", int64_t{run.exit_code});
      j.member("status", run.status);
      j.member("duration_s", run.duration_s);
      j.member("artifact", run.artifact);
      j.member("log", run.log);
      j.key("failed_assertions").begin_array();
      for (const auto& a : run.failed_assertions) j.value(a);
      j.end_array();
      j.member("error", run.error);
      j.end_object();
    }
    j.end_array();
    j.end_object();
  }
  j.end_array();
  j.end_object();
  return j.text();
}

std::string junit_xml(const MatrixResult& r) {
  junit::TestSuite suite;
  suite.name = r.name;
  suite.timestamp = r.started_at;
  suite.time_s = r.duration_s;
  for (const auto& c : r.cells) {
    junit::TestCase t;
    t.classname = "matrix." + r.name;
    t.name = c.cell.id;
    t.time_s = c.duration_s;
    t.properties = {{"expect", to_string(c.cell.expect)},
                    {"pass_rate", fmt("%.3f", c.pass_rate())},
                    {"flaky", c.flaky ? "true" : "false"}};
    for (size_t k = 0; k < c.runs.size(); ++k) {
      const std::string p = "run." + std::to_string(k + 1) + ".";
      t.properties.emplace_back(p + "exit_code", std::to_string(c.runs[k].exit_code));
      t.properties.emplace_back(p + "artifact", c.runs[k].artifact);
    }
    if (!c.met) {
      t.message = unmet_message(c);
      for (size_t k = 0; k < c.runs.size(); ++k) {
        const auto& run = c.runs[k];
        t.body += "run " + std::to_string(k + 1) + ": exit " + std::to_string(run.exit_code) +
                  " (" + run.status + "), log " + run.log + "\n";
        for (const auto& a : run.failed_assertions) t.body += "  " + a + "\n";
        if (!run.error.empty()) t.body += run.error + "\n";
      }
      t.outcome =
          has_error_run(c) ? junit::TestCase::Outcome::kError : junit::TestCase::Outcome::kFailure;
      t.type = c.cell.expect == Expect::kFail ? "unexpected-pass" : "assertions";
    }
    suite.cases.push_back(std::move(t));
  }
  return junit::to_xml("faultline matrix " + r.name, suite);
}

}  // namespace faultline::matrix
