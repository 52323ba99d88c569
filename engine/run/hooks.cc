#include "run/hooks.h"

#include <sys/wait.h>

#include <filesystem>
#include <thread>

#include "common/error.h"
#include "common/file_io.h"
#include "judge/run_facts.h"
#include "net/http_call.h"
#include "proc/child_process.h"
#include "spec/service_placeholders.h"

namespace faultline {

namespace {

using Clock = std::chrono::steady_clock;

// Sleeps up to `d` in short slices; false when interrupted first.
bool pause(Duration d, const std::function<bool()>& interrupted) {
  const auto until = Clock::now() + d;
  while (Clock::now() < until) {
    if (interrupted && interrupted()) return false;
    std::this_thread::sleep_for(
        std::min<Clock::duration>(std::chrono::milliseconds(50), until - Clock::now()));
  }
  return !(interrupted && interrupted());
}

std::chrono::milliseconds to_ms(Duration d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d);
}

// The last line of `text` that has something on it, cut to `max` bytes, for error messages.
std::string tail_of(const std::string& text, size_t max = 300) {
  size_t end = text.find_last_not_of(" \t\r\n");
  if (end == std::string::npos) return "";
  std::string t = text.substr(0, end + 1);
  if (t.size() > max) t = "..." + t.substr(t.size() - max);
  return t;
}

// One exec attempt. Fills exit_code, output, error.
void exec_attempt(const HookSpec& hook, const HookRunOptions& o, HookRecord& rec) {
  ChildSpec spec;
  for (const auto& a : hook.exec) spec.argv.push_back(resolve_hook_placeholders(a, o.lookup));
  spec.stdout_path = o.bundle.hook_output(hook.name);
  spec.stderr_path = o.bundle.hook_stderr(hook.name);
  std::error_code ec;
  std::filesystem::remove(spec.stdout_path, ec);  // ChildProcess appends: one attempt's output
  std::filesystem::remove(spec.stderr_path, ec);
  rec.exit_code = -1;
  ChildProcess child = ChildProcess::spawn(spec);  // EnvironmentError: run_hook reports it
  const auto deadline = Clock::now() + hook.timeout;
  std::optional<int> status;
  while (!status && Clock::now() < deadline) {
    if (o.interrupted && o.interrupted()) break;
    status = child.wait_for_exit(
        std::min(std::chrono::milliseconds(50),
                 std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()) +
                     std::chrono::milliseconds(1)));
  }
  // Whatever it left in its group does not outlive the hook.
  child.stop(std::chrono::milliseconds(1000));
  const std::string err_tail = tail_of(read_whole_file(spec.stderr_path).value_or(""));
  if (!status) {
    rec.error = o.interrupted && o.interrupted()
                    ? "interrupted"
                    : "timed out after " + format_duration(hook.timeout) +
                          (err_tail.empty() ? "" : "; stderr: " + err_tail);
    return;
  }
  if (WIFEXITED(*status)) {
    rec.exit_code = WEXITSTATUS(*status);
    if (rec.exit_code != 0)
      rec.error = "exited with " + std::to_string(rec.exit_code) +
                  (err_tail.empty() ? "" : ": " + err_tail);
  } else {
    rec.error = "killed by signal " + std::to_string(WTERMSIG(*status));
  }
  const auto size = std::filesystem::file_size(spec.stdout_path, ec);
  if (!ec && size > o.max_output_bytes) {
    if (rec.error.empty())
      rec.error = "its output is larger than " + std::to_string(o.max_output_bytes) + " bytes";
    return;
  }
  rec.output = read_whole_file(spec.stdout_path).value_or("");
}

void http_attempt(const HookSpec& hook, const HookRunOptions& o, HookRecord& rec) {
  HttpRequest req;
  req.method = hook.http_method;
  req.url = o.lookup(hook.http_service).url + resolve_hook_placeholders(hook.http_path, o.lookup);
  req.timeout = to_ms(hook.timeout);
  req.max_body_bytes = o.max_output_bytes;
  const HttpResponse r = http_call(req);
  rec.http_status = r.status;
  rec.output = r.body;
  write_file_atomically(o.bundle.hook_output(hook.name), r.body);
  if (!r.error.empty()) {
    rec.error =
        hook.http_method + " " + req.url + ": " +
        (r.error_class == "timeout" ? "timed out after " + format_duration(hook.timeout) : r.error);
  } else if (!r.ok()) {
    rec.error = hook.http_method + " " + req.url + ": HTTP " + std::to_string(r.status) +
                (r.body.empty() ? "" : ": " + tail_of(r.body, 200));
  }
}

}  // namespace

std::string resolve_hook_placeholders(const std::string& text, const HookServiceLookup& lookup) {
  const auto found = find_service_placeholders(text);
  if (found.empty()) return text;
  std::string out;
  size_t at = 0;
  for (const auto& p : found) {
    out.append(text, at, p.offset - at);
    if (p.service.empty())
      throw EnvironmentError("hook placeholder {" + p.attribute + "} names no service");
    const HookServiceAddress a = lookup(p.service);
    if (p.attribute == "port")
      out += std::to_string(a.port);
    else if (p.attribute == "host")
      out += a.host;
    else if (p.attribute == "url")
      out += a.url;
    else
      throw EnvironmentError("hook placeholder {" + p.service + "." + p.attribute +
                             "}: a service has port, host and url");
    at = p.offset + p.length;
  }
  out.append(text, at, std::string::npos);
  return out;
}

HookRecord run_hook(const HookSpec& hook, const std::string& stage, const HookRunOptions& o) {
  std::filesystem::create_directories(o.bundle.hooks_dir());
  HookRecord rec;
  rec.name = hook.name;
  rec.stage = stage;
  rec.kind = hook.exec.empty() ? "http" : "exec";
  rec.output_file = "hooks/" + hook.name + ".out";
  if (!pause(hook.wait, o.interrupted)) {
    rec.error = "interrupted";
    write_hook_status(o.bundle, rec);
    return rec;
  }
  const auto first = Clock::now();
  while (true) {
    ++rec.attempts;
    rec.error.clear();
    rec.output.clear();
    try {
      if (rec.kind == "exec")
        exec_attempt(hook, o, rec);
      else
        http_attempt(hook, o, rec);
    } catch (const EnvironmentError& e) {
      rec.error = e.what();  // could not start, or a service not running: retry may not help
    }
    if (rec.error.empty() && !hook.applied_ids.empty()) {
      std::vector<std::string> ids;
      std::string why;
      if (!judge::applied_ids_from_json(rec.output, hook.applied_ids, &ids, &why)) rec.error = why;
    }
    rec.ok = rec.error.empty();
    if (rec.ok || !hook.retry_until_ok || rec.error == "interrupted") break;
    if (Clock::now() - first + o.retry_pause >= *hook.retry_until_ok) break;
    if (!pause(o.retry_pause, o.interrupted)) break;
  }
  rec.elapsed = std::chrono::duration_cast<Duration>(Clock::now() - first);
  if (!rec.ok && rec.attempts > 1)
    rec.error += " (" + std::to_string(rec.attempts) + " attempts over " +
                 format_duration(rec.elapsed) + ")";
  write_hook_status(o.bundle, rec);
  return rec;
}

}  // namespace faultline
