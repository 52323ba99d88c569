# Smoke test of one bench script (bench/<SCRIPT>) in its QUICK mode: it must exit 0 and append
# at least one row of exactly 6 TAB-separated fields, `met` yes, no or -, to its --table file
# (the contract in bench/). Its figures are not checked: benchmarks are not timed tests.
#   cmake -DSCRIPT=bench/spec-to-plan -DBUILD_DIR=build -DTABLE=file -P bench_smoke.cmake
file(REMOVE ${TABLE})
execute_process(COMMAND ${CMAKE_COMMAND} -E env QUICK=1 ${SCRIPT} --build-dir ${BUILD_DIR}
                        --table ${TABLE}
                RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${SCRIPT} exited ${rc}")
endif()
if(NOT EXISTS ${TABLE})
  message(FATAL_ERROR "${SCRIPT} wrote no table rows")
endif()
file(STRINGS ${TABLE} rows)
list(LENGTH rows count)
if(count EQUAL 0)
  message(FATAL_ERROR "${SCRIPT} wrote no table rows")
endif()
foreach(row IN LISTS rows)
  string(REPLACE ";" "<semicolon>" fields "${row}")
  string(REPLACE "\t" ";" fields "${fields}")
  list(LENGTH fields n)
  list(GET fields -1 met)
  if(NOT n EQUAL 6 OR NOT met MATCHES "^(yes|no|-)$")
    message(FATAL_ERROR "${SCRIPT}: not 6 fields ending in yes, no or -: '${row}'")
  endif()
endforeach()
file(REMOVE ${TABLE})
message(STATUS "${SCRIPT}: ${count} well-formed row(s)")
