# Configures and builds the fuzz targets in a nested clang build (called by CTest).
execute_process(
  COMMAND ${CMAKE_COMMAND} -S ${FUZZ_SOURCE} -B ${FUZZ_BINARY} -G ${FUZZ_GENERATOR}
          -DFAULTLINE_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "configuring the clang fuzz build failed (${rc})")
endif()
cmake_host_system_information(RESULT cores QUERY NUMBER_OF_LOGICAL_CORES)
execute_process(COMMAND ${CMAKE_COMMAND} --build ${FUZZ_BINARY} --target fuzz_all -j ${cores}
                RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "building the fuzz targets failed (${rc})")
endif()
