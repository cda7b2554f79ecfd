# Project-wide warning policy: everything we write compiles clean under
# -Wall -Wextra -Wpedantic and a few more; CI builds with -Werror.
add_library(scribepod_warnings INTERFACE)
target_compile_options(scribepod_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast
  -Wcast-align -Woverloaded-virtual -Wconversion -Wsign-conversion
  -Wdouble-promotion -Wformat=2 -Wimplicit-fallthrough)
if(SCRIBEPOD_WERROR)
  target_compile_options(scribepod_warnings INTERFACE -Werror)
endif()
