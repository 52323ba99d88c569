# Runs one libFuzzer target for a bounded time on a fresh copy of its seed corpus.
# Fails when the fuzzer finds a crash, leak, timeout or out-of-memory input.
# FAULTLINE_FUZZ_SECONDS in the environment overrides the configured time (make fuzz).
if(DEFINED ENV{FAULTLINE_FUZZ_SECONDS})
  set(SECONDS $ENV{FAULTLINE_FUZZ_SECONDS})
endif()
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK}/corpus ${WORK}/artifacts)
# Every target has checked-in seeds; starting from nothing would fuzz far less in the time.
file(GLOB seeds ${SEEDS}/*)
if(NOT seeds)
  message(FATAL_ERROR "no seed inputs in ${SEEDS}")
endif()
file(COPY ${seeds} DESTINATION ${WORK}/corpus)
execute_process(
  COMMAND ${FUZZER} -max_total_time=${SECONDS} -timeout=5 -rss_limit_mb=2048
          -print_final_stats=1 -artifact_prefix=${WORK}/artifacts/ ${WORK}/corpus
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  file(GLOB found ${WORK}/artifacts/*)
  message(FATAL_ERROR "fuzzer ${FUZZER} failed (${rc}); reproducers: ${found}")
endif()
