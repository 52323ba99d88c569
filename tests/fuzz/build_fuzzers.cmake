# Configures and builds, in a nested clang build (called by CTest): the fuzz targets, and the
# CLI and plan tests, so clang 14 builds the project with warnings as errors and the plan hash
# can be compared across compilers.
execute_process(
  COMMAND ${CMAKE_COMMAND} -S ${FUZZ_SOURCE} -B ${FUZZ_BINARY} -G ${FUZZ_GENERATOR}
          -DFAULTLINE_FUZZ=ON -DCMAKE_BUILD_TYPE=Fuzz
          "-DCMAKE_CXX_FLAGS_FUZZ=-O1 -gline-tables-only" "-DCMAKE_C_FLAGS_FUZZ=-O1 -gline-tables-only"
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "configuring the clang fuzz build failed (${rc})")
endif()
cmake_host_system_information(RESULT cores QUERY NUMBER_OF_LOGICAL_CORES)
execute_process(COMMAND ${CMAKE_COMMAND} --build ${FUZZ_BINARY} --target fuzz_all faultline_cli plan_test -j ${cores}
                RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "building with clang failed (${rc})")
endif()
