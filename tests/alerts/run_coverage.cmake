# Runs `faultline coverage` (FAULTLINE, ARGS as a ;-list, from WORKDIR) and checks its exit code
# is EXPECT_EXIT, that its output holds every line of EXPECT (a ;-list of substrings) and none
# of REJECT (a ;-list, optional).
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
foreach(unwanted ${REJECT})
  string(FIND "${out}" "${unwanted}" at)
  if(NOT at EQUAL -1)
    message(FATAL_ERROR "faultline coverage said what it must not: ${unwanted}")
  endif()
endforeach()
