# Run stage: the runner and the open-loop load engine it drives.
target_sources(faultline PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/http_loop_multi.cc
  ${CMAKE_CURRENT_LIST_DIR}/http_loop_side.cc
  ${CMAKE_CURRENT_LIST_DIR}/load_engine.cc
  ${CMAKE_CURRENT_LIST_DIR}/load_transfer.cc
)

# The runner's control plane: environment, allowlist, faults.
target_sources(faultline PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/fault_driver.cc
  ${CMAKE_CURRENT_LIST_DIR}/service_launcher.cc
)

# The runner itself.
target_sources(faultline PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/arrival_source.cc
  ${CMAKE_CURRENT_LIST_DIR}/observations.cc
  ${CMAKE_CURRENT_LIST_DIR}/progress.cc
  ${CMAKE_CURRENT_LIST_DIR}/run_report.cc
  ${CMAKE_CURRENT_LIST_DIR}/runner.cc
  ${CMAKE_CURRENT_LIST_DIR}/stop_signals.cc
)
target_sources(faultline PRIVATE ${CMAKE_CURRENT_LIST_DIR}/recorded_run.cc)
