#include "faults/exec_driver.h"

#include <fcntl.h>
#include <rapidjson/document.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <set>
#include <stdexcept>
#include <thread>

#include "common/error.h"
#include "common/file_io.h"
#include "common/json_parse.h"
#include "proc/child_process.h"

namespace faultline {

namespace {

using Clock = std::chrono::steady_clock;

// The command line as a reader can paste it into a shell: arguments with anything but
// letters, digits and -_./=:,+@% are single-quoted.
std::string shell_quoted(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& arg : argv) {
    if (!out.empty()) out += ' ';
    const bool plain = !arg.empty() && arg.find_first_not_of(
                                           "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                           "0123456789-_./=:,+@%") == std::string::npos;
    if (plain) {
      out += arg;
      continue;
    }
    out += '\'';
    for (char c : arg) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    out += '\'';
  }
  return out;
}

// Appends `text` to the file; returns its size afterwards, or -1 when it cannot be written.
long long append_to_file(const std::string& path, const std::string& text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return -1;
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  struct stat st {};
  const long long size = ::fstat(fd, &st) == 0 ? static_cast<long long>(st.st_size) : -1;
  ::close(fd);
  return done == text.size() ? size : -1;
}

// The last `max_lines` lines of the file from `offset` on (at most 1500 bytes), for errors.
std::string output_tail(const std::string& path, long long offset, int max_lines = 10) {
  const auto all = read_whole_file(path);
  if (!all || offset < 0 || static_cast<size_t>(offset) >= all->size()) return "";
  std::string out = all->substr(static_cast<size_t>(offset));
  while (!out.empty() && out.back() == '\n') out.pop_back();
  size_t cut = out.size();
  for (int lines = 0; lines < max_lines && cut != std::string::npos && cut > 0; ++lines)
    cut = out.rfind('\n', cut - 1);
  if (cut != std::string::npos && cut > 0) out = out.substr(cut + 1);
  if (out.size() > 1500) out = "..." + out.substr(out.size() - 1500);
  return out;
}

// How a wait status reads, and the number that stands for it (the shell's convention: the
// exit code, or 128 + the signal).
std::pair<std::string, long> describe_status(int status) {
  if (WIFEXITED(status))
    return {"exited with status " + std::to_string(WEXITSTATUS(status)), WEXITSTATUS(status)};
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    const char* abbrev = ::sigabbrev_np(sig);
    return {"killed by signal " + std::to_string(sig) +
                (abbrev ? std::string(" (SIG") + abbrev + ")" : std::string()),
            128 + sig};
  }
  return {"ended with wait status " + std::to_string(status), -1};
}

// True when `path` is an executable regular file.
bool executable_file(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

// Where execvp would find `name`, or "" when nowhere. A name with a '/' is a path.
std::string resolve_command(const std::string& name) {
  if (name.find('/') != std::string::npos) return executable_file(name) ? name : "";
  const char* path_env = std::getenv("PATH");
  // glibc's execvp default when PATH is unset.
  const std::string path = path_env ? path_env : "/bin:/usr/bin";
  size_t begin = 0;
  while (begin <= path.size()) {
    size_t end = path.find(':', begin);
    if (end == std::string::npos) end = path.size();
    const std::string dir = end == begin ? "." : path.substr(begin, end - begin);
    const std::string candidate = dir + "/" + name;
    if (executable_file(candidate)) return candidate;
    begin = end + 1;
  }
  return "";
}

// The argv actually exec'd for one of a state's command lists.
std::vector<std::string> command_argv(const std::vector<std::string>& list, bool shell) {
  if (!shell) return list;
  return {"/bin/sh", "-c", list.empty() ? std::string() : list.front()};
}

// A file name for a hook's log: hook names come from the spec, so anything that is not a
// plain file-name character becomes '_'.
std::string log_leaf(const std::string& name) {
  std::string leaf = name;
  for (char& c : leaf)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') c = '_';
  if (leaf.empty() || leaf[0] == '.') leaf = "_" + leaf;
  return "exec-" + leaf + ".log";
}

struct CommandResult {
  bool started = false;
  bool ok = false;
  long status = -1;
  std::string error;
  Duration took{0};
};

// Runs one command to its end on the calling thread (a background thread of the driver, which
// therefore owns the child for its whole life): header, spawn, wait (timeout or cancel), stop
// the group, footer.
CommandResult run_command(const std::string& hook, const std::string& action,
                          const std::vector<std::string>& argv, Duration at, Duration timeout,
                          std::chrono::milliseconds kill_grace, const std::string& log_path,
                          const std::shared_ptr<std::atomic<bool>>& cancel) {
  CommandResult r;
  const std::string header = "=== faultline exec hook '" + hook + "': " + action +
                             " at plan time " + format_duration(at) + ": " + shell_quoted(argv) +
                             "\n";
  std::error_code ec;  // preflight made the directory; a driver used without it makes it here
  std::filesystem::create_directories(std::filesystem::path(log_path).parent_path(), ec);
  const long long output_from = append_to_file(log_path, header);
  const auto started = Clock::now();
  auto took = [&] { return std::chrono::duration_cast<Duration>(Clock::now() - started); };
  if (output_from < 0) {
    r.error = "cannot write the hook's log " + log_path + ": " + std::strerror(errno);
    return r;
  }
  std::string footer;
  try {
    ChildSpec spec;
    spec.argv = argv;
    spec.stdout_path = log_path;  // stderr too: one file, in the order the command wrote them
    ChildProcess child = ChildProcess::spawn(spec);
    r.started = true;
    const auto deadline = started + timeout;
    bool timed_out = false;
    bool cancelled = false;
    while (!child.wait_for_exit(std::chrono::milliseconds(10))) {
      if (cancel->load()) {
        cancelled = true;
        break;
      }
      if (Clock::now() >= deadline) {
        timed_out = true;
        break;
      }
    }
    r.took = took();
    // The leader has exited (or is about to be stopped); members it left in its group are
    // stopped now, so nothing a hook started outlives it.
    const bool leftovers = !timed_out && !cancelled && ::kill(-child.pid(), 0) == 0;
    const int status = child.stop(kill_grace);
    const auto [how, code] = describe_status(status);
    r.status = code;
    if (timed_out) {
      r.error = "timed out after " + format_duration(timeout) +
                "; its process group was stopped (" + how + ")";
    } else if (cancelled) {
      r.error = "cancelled after " + format_duration(r.took) +
                " (the undo budget ran out); its process group was stopped (" + how + ")";
    } else {
      r.ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
      if (!r.ok) r.error = how;
    }
    footer = "=== " + action + " " + (r.ok ? "succeeded: " : "failed: ") + (r.ok ? how : r.error) +
             ", after " + format_duration(r.took) +
             (leftovers ? "; processes it left in its group were stopped" : "") +
             (child.group_gone() ? "" : "; some of its group outlived SIGKILL") + "\n";
    if (!r.ok) {
      const std::string tail = output_tail(log_path, output_from);
      r.error += tail.empty() ? "; no output" : "; last output:\n" + tail;
    }
  } catch (const std::exception& e) {
    r.took = took();
    r.error = e.what();
    footer = "=== " + action + " not started: " + r.error + "\n";
  }
  append_to_file(log_path, footer);
  return r;
}

}  // namespace

ExecCommandSpec parse_exec_state(const std::string& state_json) {
  rapidjson::Document doc;
  JsonParseError error;
  if (!parse_json(state_json, &doc, &error))
    throw std::invalid_argument("exec state is not JSON: " + error.describe());
  if (!doc.IsObject()) throw std::invalid_argument("exec state is not an object");
  ExecCommandSpec spec;
  bool has_run = false;
  for (auto m = doc.MemberBegin(); m != doc.MemberEnd(); ++m) {
    const std::string key(m->name.GetString(), m->name.GetStringLength());
    const auto& v = m->value;
    if (key == "run" || key == "undo") {
      if (!v.IsArray()) throw std::invalid_argument("exec state: " + key + " is not a list");
      auto& to = key == "run" ? spec.run : spec.undo;
      for (const auto& a : v.GetArray()) {
        if (!a.IsString())
          throw std::invalid_argument("exec state: " + key + " has an argument that is not text");
        to.emplace_back(a.GetString(), a.GetStringLength());
      }
      has_run |= key == "run";
    } else if (key == "shell") {
      if (!v.IsBool()) throw std::invalid_argument("exec state: shell is not true or false");
      spec.shell = v.GetBool();
    } else if (key == "timeout_us") {
      if (!v.IsInt64() || v.GetInt64() <= 0)
        throw std::invalid_argument("exec state: timeout_us is not a positive integer");
      spec.timeout = Duration{v.GetInt64()};
    } else {
      throw std::invalid_argument("exec state: unknown member \"" + key + "\"");
    }
  }
  if (!has_run || spec.run.empty() || spec.run.front().empty())
    throw std::invalid_argument("exec state: run is empty");
  if (spec.shell && (spec.run.size() > 1 || spec.undo.size() > 1))
    throw std::invalid_argument("exec state: with shell, run and undo are one command line each");
  return spec;
}

ExecDriver::ExecDriver(ExecDriverOptions options) : options_(std::move(options)) {}

ExecDriver::~ExecDriver() {
  for (auto& [name, h] : hooks_) {
    if (!h.call.valid()) continue;
    h.cancel->store(true);
    h.call.wait();
  }
}

std::string ExecDriver::log_path(const std::string& name) const {
  return (std::filesystem::path(options_.log_dir) / log_leaf(name)).string();
}

ExecDriver::Hook& ExecDriver::hook(const std::string& name) {
  Hook& h = hooks_[name];
  h.name = name;
  return h;
}

void ExecDriver::preflight(const Plan& plan) {
  for (const auto& step : plan.fault_steps) {
    if (!handles(step) || step.is_reset()) continue;
    ExecCommandSpec spec;
    try {
      spec = parse_exec_state(step.state_json);
    } catch (const std::invalid_argument& e) {
      throw EnvironmentError("preflight: exec hook '" + step.target + "': " + e.what());
    }
    hook(step.target);
    if (spec.shell) continue;  // /bin/sh resolves the words itself, at run time
    for (const auto* list : {&spec.run, &spec.undo}) {
      if (list->empty()) continue;
      const std::string& command = list->front();
      if (resolve_command(command).empty())
        throw EnvironmentError(
            "preflight: exec hook '" + step.target + "': the " +
            (list == &spec.run ? "run" : "undo") + " command '" + command + "' " +
            (command.find('/') != std::string::npos
                 ? "is not an executable file"
                 : "is not found in PATH (" +
                       std::string(std::getenv("PATH") ? std::getenv("PATH") : "unset") + ")") +
            ": install it, or give its full path");
    }
  }
  std::error_code ec;
  std::filesystem::create_directories(options_.log_dir, ec);
  if (ec)
    throw EnvironmentError("preflight: cannot create the exec hooks' log directory " +
                           options_.log_dir + ": " + ec.message());
}

void ExecDriver::start(Hook& h, Duration now, const std::string& action, const std::string& state,
                       const std::vector<std::string>& argv, const ExecCommandSpec& spec,
                       const std::string& phase) {
  FaultEvent ev;
  ev.at = now;
  ev.phase = phase;
  ev.kind = "exec";
  ev.target = h.name;
  ev.action = action;
  ev.state_json = state;
  h.cancel = std::make_shared<std::atomic<bool>>(false);
  h.call = std::async(std::launch::async, [ev = std::move(ev), argv, timeout = spec.timeout,
                                           grace = options_.kill_grace, log = log_path(h.name),
                                           cancel = h.cancel]() mutable {
    const CommandResult r =
        run_command(ev.target, ev.action, argv, ev.at, timeout, grace, log, cancel);
    ev.ok = r.ok;
    ev.status = r.status;
    ev.error = r.error;
    ev.call_latency = r.took;
    return Outcome{std::move(ev), r.started};
  });
}

void ExecDriver::advance(Hook& h, Duration now, const std::string& undo_reason) {
  if (h.call.valid() || h.blocked) return;
  while (h.desired != h.applied) {
    if (h.applied != "{}") {
      // Whatever comes next, the state in place is undone first.
      const ExecCommandSpec spec = parse_exec_state(h.applied);  // parsed once already
      if (spec.undo.empty()) {
        h.applied = "{}";  // nothing to undo
        continue;
      }
      start(h, now, "undo", h.applied, command_argv(spec.undo, spec.shell), spec,
            undo_reason.empty() ? h.phase : undo_reason);
      return;
    }
    ExecCommandSpec spec;
    try {
      spec = parse_exec_state(h.desired);
    } catch (const std::invalid_argument& e) {
      h.blocked = true;
      h.last_error = e.what();
      apply_failures_.push_back("exec hook '" + h.name + "': " + e.what());
      return;
    }
    h.applied = h.desired;  // from now on the run may have done something: it needs its undo
    start(h, now, "run", h.desired, command_argv(spec.run, spec.shell), spec, h.phase);
    return;
  }
}

bool ExecDriver::collect(Hook& h, bool wait) {
  if (!h.call.valid()) return true;
  if (!wait && h.call.wait_for(std::chrono::seconds(0)) != std::future_status::ready) return false;
  Outcome o = h.call.get();
  const FaultEvent& ev = o.event;
  if (ev.ok) {
    if (ev.action == "undo") h.applied = "{}";
    h.last_error.clear();
  } else {
    h.blocked = true;
    h.last_error = ev.error;
    if (ev.action == "run") {
      // A run that never started did nothing, so there is nothing to undo.
      if (!o.started) h.applied = "{}";
      apply_failures_.push_back("exec hook '" + h.name + "': run failed: " + ev.error);
    }
  }
  events_.push_back(std::move(o.event));
  return true;
}

void ExecDriver::apply(const FaultStep& step, Duration now) {
  Hook& h = hook(step.target);
  h.desired = step.state_json;
  h.phase = step.phase;
  h.blocked = false;  // a new step is tried, even after a failure
  collect(h, false);
  advance(h, now, "");
}

void ExecDriver::tick(Duration now) {
  for (auto& [name, h] : hooks_) {
    if (collect(h, false)) advance(h, now, "");
  }
}

bool ExecDriver::undo_all(Duration now, const std::string& reason, Duration budget) {
  const auto started = Clock::now();
  const auto deadline = started + budget;
  auto plan_now = [&] {
    return now + std::chrono::duration_cast<Duration>(Clock::now() - started);
  };
  for (auto& [name, h] : hooks_) h.desired = "{}";
  // Hooks whose undo this call started: one try each, so an undo that failed during the run
  // gets exactly one more.
  std::set<std::string> tried;
  while (true) {
    bool pending = false;
    for (auto& [name, h] : hooks_) {
      if (!collect(h, false)) {
        pending = true;  // a run (or an undo) under way: its undo, if any, comes after it
        continue;
      }
      if (h.applied == "{}" || tried.count(name) || Clock::now() >= deadline) continue;
      h.blocked = false;
      advance(h, plan_now(), reason);
      if (h.call.valid()) {
        tried.insert(name);
        pending = true;
      }
    }
    if (!pending) break;
    if (Clock::now() >= deadline) {
      for (auto& [name, h] : hooks_)
        if (h.call.valid()) h.cancel->store(true);
      for (auto& [name, h] : hooks_) collect(h, true);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  bool all = true;
  for (auto& [name, h] : hooks_) {
    if (h.applied == "{}") continue;
    all = false;
    if (!tried.count(name))
      h.last_error = "its undo was not started: the undo budget (" + format_duration(budget) +
                     ") ran out" + (h.last_error.empty() ? "" : "; before that: " + h.last_error);
  }
  return all;
}

bool ExecDriver::settled() const {
  for (const auto& [name, h] : hooks_)
    if (h.call.valid() || h.blocked || h.desired != h.applied) return false;
  return true;
}

FaultState ExecDriver::state() const {
  FaultState st;
  st.apply_failures = apply_failures_;
  for (const auto& [name, h] : hooks_) {
    // Lifted by the plan (or the end) and not confirmed undone; a command under way counts.
    if (h.desired != "{}" || h.applied == "{}") continue;
    st.not_undone.push_back({"exec", name, h.applied,
                             h.last_error.empty() ? "its undo has not finished" : h.last_error});
  }
  return st;
}

}  // namespace faultline
