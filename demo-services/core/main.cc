// faultline-demo: one binary, three roles (--role api|payment|worker). Thin on purpose: parse
// the command line, arrange for SIGTERM/SIGINT to end the run, and hand over to run_demo().
#include <signal.h>

#include <cstdio>

#include "common/error.h"
#include "core/config.h"
#include "core/service.h"

int main(int argc, char** argv) {
  // Block the stop signals before any thread exists: every thread inherits the mask, and the
  // main thread alone receives them with sigwait.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  faultline::demo::CommandLine command_line;
  try {
    command_line = faultline::demo::parse_command_line(argc, argv, &faultline::demo::process_env);
  } catch (const faultline::Error& e) {
    std::fprintf(stderr, "faultline-demo: %s\n", e.what());
    return static_cast<int>(e.code());
  }
  if (command_line.show_help) {
    std::fputs(command_line.help_text.c_str(), stdout);
    return 0;
  }
  try {
    return faultline::demo::run_demo(command_line.config, [&stop_signals] {
      int sig = 0;
      while (sigwait(&stop_signals, &sig) != 0) {
      }
    });
  } catch (const faultline::Error& e) {
    std::fprintf(stderr, "faultline-demo: %s\n", e.what());
    return static_cast<int>(e.code());
  }
}
