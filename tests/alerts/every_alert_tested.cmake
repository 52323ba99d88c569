# Fails unless every `- alert: NAME` of RULES has, in TESTS (a promtool test file as
# YAML: `alertname: NAME` followed by its `exp_alerts`), at least one evaluation that
# expects it firing (exp_alerts with items) and one that expects it quiet (`exp_alerts: []`).
file(READ ${RULES} rules)
file(READ ${TESTS} tests)
string(REPLACE ";" "<semicolon>" tests "${tests}")
string(REGEX MATCHALL "- alert: [A-Za-z0-9_]+" alerts "${rules}")
list(LENGTH alerts n)
if(n EQUAL 0)
  message(FATAL_ERROR "${RULES}: no alert found")
endif()
set(bad "")
foreach(a ${alerts})
  string(REPLACE "- alert: " "" name "${a}")
  # Each evaluation: "alertname: NAME\n<indent>exp_alerts: []" (quiet) or
  # "alertname: NAME\n<indent>exp_alerts:\n" followed by items (firing).
  string(REGEX MATCH "alertname: ${name}[\r\n]+[ ]*exp_alerts: \\[\\]" quiet "${tests}")
  string(REGEX MATCH "alertname: ${name}[\r\n]+[ ]*exp_alerts:[\r\n]+[ ]*- exp_labels" firing "${tests}")
  if(NOT quiet)
    string(APPEND bad "\n  ${name}: no case where it must stay quiet")
  endif()
  if(NOT firing)
    string(APPEND bad "\n  ${name}: no case where it must fire")
  endif()
endforeach()
if(bad)
  message(FATAL_ERROR "alerts without tests in ${TESTS}:${bad}")
endif()
message(STATUS "${n} alerts, each with a firing and a quiet case")
