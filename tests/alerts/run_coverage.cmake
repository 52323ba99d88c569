# Runs `faultline coverage` (FAULTLINE, ARGS as a ;-list, from WORKDIR) and checks its exit code
# is EXPECT_EXIT and that its output holds every line of EXPECT (a ;-list of substrings).
execute_process(COMMAND ${FAULTLINE} coverage ${ARGS}
                WORKING_DIRECTORY ${WORKDIR}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("${out}${err}")
if(NOT rc EQUAL EXPECT_EXIT)
  message(FATAL_ERROR "faultline coverage exited ${rc}, expected ${EXPECT_EXIT}")
endif()
foreach(want ${EXPECT})
  string(FIND "${out}" "${want}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "faultline coverage did not say: ${want}")
  endif()
endforeach()
