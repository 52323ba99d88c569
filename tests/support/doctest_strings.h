// Makes doctest print a C string in messages and failed comparisons as its text. doctest 2.4.9
// prints any const char* as an address (INFO(doc["status"].GetString()) reads "0x5608..."),
// and its DOCTEST_CONFIG_TREAT_CHAR_STAR_AS_STRING does not compile. Force-included into every
// test translation unit (tests/CMakeLists.txt), before doctest.h, so it only declares; the
// definitions are in doctest_main.cc. Comparisons of char pointers are unchanged.
#pragma once

namespace doctest {

class String;

template <typename T>
struct StringMaker;

template <>
struct StringMaker<const char*> {
  static String convert(const char* text);
};

template <>
struct StringMaker<char*> {
  static String convert(const char* text);
};

}  // namespace doctest
