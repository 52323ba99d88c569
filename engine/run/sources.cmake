# Run stage: the runner and the open-loop load engine it drives.
target_sources(faultline PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/http_loop_multi.cc
  ${CMAKE_CURRENT_LIST_DIR}/http_loop_side.cc
  ${CMAKE_CURRENT_LIST_DIR}/load_engine.cc
  ${CMAKE_CURRENT_LIST_DIR}/load_transfer.cc
)

# The runner's control plane: environment, allowlist, faults.
target_sources(faultline PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/allowlist.cc
  ${CMAKE_CURRENT_LIST_DIR}/fault_driver.cc
  ${CMAKE_CURRENT_LIST_DIR}/service_launcher.cc
)
