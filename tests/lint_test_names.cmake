# doctest_discover_tests splits test names at ';' (a CMake list separator): a TEST_CASE whose
# name holds one becomes two CTest tests that match no case (doctest_main.cc now fails those,
# but the name is still wrong). Refuse such names.
#
# Names are read as the compiler reads them, not line by line: clang-format may put the
# literal on the line after `TEST_CASE(`, and adjacent literals ("a" "b") are one name. A
# TEST_CASE whose name is not a string literal cannot be checked and is refused too.
file(GLOB_RECURSE sources ${SOURCE_DIR}/tests/*.cc ${SOURCE_DIR}/tests/*.h)
set(bad "")
set(names 0)
foreach(f ${sources})
  file(READ ${f} text)
  # A ';' in the text would split the matches below into list items: mark it instead.
  string(REPLACE ";" "<semicolon>" text "${text}")
  string(REGEX MATCHALL "TEST_CASE[A-Z_]*\\(" macros "${text}")
  string(REGEX MATCHALL "TEST_CASE[A-Z_]*\\([ \t\r\n]*(\"([^\"\\\\]|\\\\.)*\"[ \t\r\n]*)+" calls
         "${text}")
  list(LENGTH macros n_macros)
  list(LENGTH calls n_calls)
  if(NOT n_macros EQUAL n_calls)
    file(RELATIVE_PATH rel ${SOURCE_DIR} ${f})
    string(APPEND bad "\n  ${rel}: ${n_macros} TEST_CASE macros but ${n_calls} names written as "
                      "string literals (write each name as a literal)")
  endif()
  math(EXPR names "${names} + ${n_calls}")
  foreach(call ${calls})
    # The name the compiler sees: the literals' contents, concatenated.
    string(REGEX REPLACE "^TEST_CASE[A-Z_]*\\([ \t\r\n]*\"" "" name "${call}")
    string(REGEX REPLACE "\"[ \t\r\n]*$" "" name "${name}")
    string(REGEX REPLACE "\"[ \t\r\n]*\"" "" name "${name}")
    if(name MATCHES "<semicolon>")
      string(REPLACE "<semicolon>" "\;" name "${name}")
      file(RELATIVE_PATH rel ${SOURCE_DIR} ${f})
      string(APPEND bad "\n  ${rel}: \"${name}\" contains ';'")
    endif()
  endforeach()
endforeach()
if(bad)
  message(FATAL_ERROR "test names CTest would split or that cannot be checked:${bad}")
endif()
# A lint that reads nothing cannot fail: the suite has hundreds of cases.
if(names LESS 100)
  message(FATAL_ERROR "read only ${names} test names under ${SOURCE_DIR}/tests")
endif()
message(STATUS "${names} test names checked")
