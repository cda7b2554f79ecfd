# Project-wide warning policy: everything we write compiles clean under
# -Wall -Wextra -Wpedantic and a few more; CI builds with -Werror.
add_library(scribepod_warnings INTERFACE)
target_compile_options(scribepod_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast
  -Wcast-align -Woverloaded-virtual -Wconversion -Wsign-conversion
  -Wdouble-promotion -Wformat=2 -Wimplicit-fallthrough)
# GCC 12 reports false -Wrestrict overlaps inside std::string at -O2/-O3
# (GCC bug 105651); it has no true positives in our code to lose.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  target_compile_options(scribepod_warnings INTERFACE -Wno-restrict)
endif()
if(SCRIBEPOD_WERROR)
  target_compile_options(scribepod_warnings INTERFACE -Werror)
endif()
