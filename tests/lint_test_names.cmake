# doctest_discover_tests splits test names at ';' (a CMake list separator): a TEST_CASE whose
# name holds one becomes two CTest tests that run nothing and pass. Refuse such names.
file(GLOB_RECURSE sources ${SOURCE_DIR}/tests/*.cc)
set(bad "")
foreach(f ${sources})
  file(STRINGS ${f} lines REGEX "TEST_CASE\\(\"[^\"]*;")
  foreach(line ${lines})
    string(APPEND bad "\n  ${f}: ${line}")
  endforeach()
endforeach()
if(bad)
  message(FATAL_ERROR "test names must not contain ';' (CTest would run nothing):${bad}")
endif()
