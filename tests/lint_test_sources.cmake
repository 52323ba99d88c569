# Patterns that let a test pass when it should not, or leave files behind. Each was found in
# this suite once (issue 16); this lint keeps them from coming back.
#
# - doctest::Approx(x).epsilon(e).scale(0) accepts |a - x| < e * (1 + max(|a|, |x|)): for |x| < 1 that
#   is an absolute e, not e relative (Approx(0.04).epsilon(0.1).scale(0) accepts -0.04). Every epsilon
#   must come with .scale(0), which makes it relative as the comments mean.
# - Temporary files come from TempDir (tests/support/temp_dir.h), which removes them unless the
#   test failed. A bare mkdtemp or temp_directory_path() leaves them in /tmp.
file(GLOB_RECURSE sources ${SOURCE_DIR}/tests/*.cc ${SOURCE_DIR}/tests/*.h)
set(bad "")
set(epsilons 0)
foreach(f ${sources})
  file(RELATIVE_PATH rel ${SOURCE_DIR} ${f})
  file(READ ${f} text)
  string(REPLACE ";" "<semicolon>" text "${text}")
  string(REGEX MATCHALL "\\.epsilon\\([^()]*\\)[ \t\r\n]*(\\.scale\\([^()]*\\))?" uses "${text}")
  foreach(use ${uses})
    math(EXPR epsilons "${epsilons} + 1")
    if(NOT use MATCHES "\\.scale\\(0\\)$")
      string(REGEX REPLACE "[ \t\r\n]+" " " use "${use}")
      string(APPEND bad "\n  ${rel}: Approx ${use} without .scale(0)")
    endif()
  endforeach()
  if(NOT rel STREQUAL "tests/support/temp_dir.cc")
    string(REGEX MATCHALL "(temp_directory_path|mkdtemp|mkstemp|\"/tmp/)" temps "${text}")
    list(REMOVE_DUPLICATES temps)
    foreach(t ${temps})
      string(APPEND bad "\n  ${rel}: ${t} (use TempDir from tests/support/temp_dir.h)")
    endforeach()
  endif()
endforeach()
if(bad)
  message(FATAL_ERROR "test sources break the suite's rules:${bad}")
endif()
message(STATUS "${epsilons} Approx epsilons checked in ${SOURCE_DIR}/tests")
