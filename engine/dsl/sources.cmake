target_sources(faultline PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/check.cc
  ${CMAKE_CURRENT_LIST_DIR}/lexer.cc
  ${CMAKE_CURRENT_LIST_DIR}/parser.cc
  ${CMAKE_CURRENT_LIST_DIR}/printer.cc
  ${CMAKE_CURRENT_LIST_DIR}/problem.cc
  ${CMAKE_CURRENT_LIST_DIR}/types.cc
  ${CMAKE_CURRENT_LIST_DIR}/vocabulary.cc
)
