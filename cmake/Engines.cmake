# Engines.cmake: whisper.cpp + llama.cpp over exactly one ggml, prebuilt by
# scripts/build-engines into a cache prefix outside the source tree.
#
# Inputs:
#   SCRIBEPOD_ENGINES_PREFIX   (cache, PATH) install prefix of the engines.
#                              Empty: taken from the environment variable of the
#                              same name, else from `scripts/build-engines
#                              --print-prefix` (re-evaluated on every configure,
#                              so changed build flags pick up the new prefix).
#   SCRIBEPOD_ENGINES_NATIVE   (option) look for the --native build instead.
# Provides:
#   scribepod_engines          INTERFACE target: whisper + llama + ggml::ggml,
#                              headers as SYSTEM includes.
#   SCRIBEPOD_ENGINES_PREFIX_RESOLVED, SCRIBEPOD_GGML_VERSION,
#   SCRIBEPOD_WHISPER_VERSION, SCRIBEPOD_LLAMA_VERSION   (variables)
include_guard(GLOBAL)

set(SCRIBEPOD_ENGINES_PREFIX "" CACHE PATH
  "Install prefix of the prebuilt engines (empty: \$ENV{SCRIBEPOD_ENGINES_PREFIX} or scripts/build-engines --print-prefix)")
option(SCRIBEPOD_ENGINES_NATIVE "Use the engines built with scripts/build-engines --native" OFF)

set(_sp_engines_script "${CMAKE_CURRENT_LIST_DIR}/../scripts/build-engines")
cmake_path(NORMAL_PATH _sp_engines_script)
set(_sp_engines_hint "run `scripts/bootstrap` (or `scripts/build-engines`) first, or point -DSCRIBEPOD_ENGINES_PREFIX=<prefix> at an existing engines install")

if(SCRIBEPOD_ENGINES_PREFIX)
  set(_sp_engines_prefix "${SCRIBEPOD_ENGINES_PREFIX}")
  set(_sp_engines_from "cache variable SCRIBEPOD_ENGINES_PREFIX")
elseif(DEFINED ENV{SCRIBEPOD_ENGINES_PREFIX} AND NOT "$ENV{SCRIBEPOD_ENGINES_PREFIX}" STREQUAL "")
  set(_sp_engines_prefix "$ENV{SCRIBEPOD_ENGINES_PREFIX}")
  set(_sp_engines_from "environment variable SCRIBEPOD_ENGINES_PREFIX")
else()
  set(_sp_engines_args --print-prefix)
  if(SCRIBEPOD_ENGINES_NATIVE)
    list(APPEND _sp_engines_args --native)
  endif()
  execute_process(
    COMMAND "${_sp_engines_script}" ${_sp_engines_args}
    RESULT_VARIABLE _sp_engines_rc
    OUTPUT_VARIABLE _sp_engines_prefix
    ERROR_VARIABLE _sp_engines_err
    OUTPUT_STRIP_TRAILING_WHITESPACE
    ERROR_STRIP_TRAILING_WHITESPACE)
  if(NOT _sp_engines_rc EQUAL 0 OR _sp_engines_prefix STREQUAL "")
    message(FATAL_ERROR
      "Scribepod: the inference engines (whisper.cpp + llama.cpp) are not built.\n"
      "  ${_sp_engines_script} --print-prefix said: ${_sp_engines_err}\n"
      "  Fix: ${_sp_engines_hint}.\n"
      "  (Configure with -DSCRIBEPOD_WITH_ENGINES=OFF only for parser-only fuzz builds.)")
  endif()
  set(_sp_engines_from "scripts/build-engines --print-prefix")
  # Reconfigure when the recipe (flags, versions) changes: the prefix moves.
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${_sp_engines_script}")
endif()

if(NOT IS_DIRECTORY "${_sp_engines_prefix}/lib/cmake/ggml"
   OR NOT IS_DIRECTORY "${_sp_engines_prefix}/lib/cmake/llama"
   OR NOT IS_DIRECTORY "${_sp_engines_prefix}/lib/cmake/whisper")
  message(FATAL_ERROR
    "Scribepod: no complete engines install at '${_sp_engines_prefix}' (from ${_sp_engines_from}): "
    "expected lib/cmake/{ggml,llama,whisper} there.\n  Fix: ${_sp_engines_hint}.")
endif()
if(NOT EXISTS "${_sp_engines_prefix}/.complete")
  message(WARNING "Scribepod: '${_sp_engines_prefix}' has no .complete stamp; it may be a partial build.")
endif()
# whisper-config.cmake set_and_check()s <prefix>/bin, which the install may lack.
if(NOT IS_DIRECTORY "${_sp_engines_prefix}/bin")
  message(FATAL_ERROR "Scribepod: '${_sp_engines_prefix}/bin' is missing (whisper-config.cmake needs it). Fix: ${_sp_engines_hint}.")
endif()

set(SCRIBEPOD_ENGINES_PREFIX_RESOLVED "${_sp_engines_prefix}")
list(PREPEND CMAKE_PREFIX_PATH "${_sp_engines_prefix}")
list(REMOVE_DUPLICATES CMAKE_PREFIX_PATH)

# Pin ggml to this prefix before anything else asks for it: llama-config and
# whisper-config both call find_package(ggml) and must get this very one.
set(ggml_DIR "${_sp_engines_prefix}/lib/cmake/ggml" CACHE PATH "ggml CMake package (from the engines prefix)" FORCE)
set(llama_DIR "${_sp_engines_prefix}/lib/cmake/llama" CACHE PATH "llama CMake package (from the engines prefix)" FORCE)
set(whisper_DIR "${_sp_engines_prefix}/lib/cmake/whisper" CACHE PATH "whisper CMake package (from the engines prefix)" FORCE)

# llama-/whisper-config cache their find_library() result; drop it so a moved
# prefix (new flags => new key) is searched afresh instead of reusing the old.
unset(llama_LIBRARY CACHE)
unset(whisper_LIBRARY CACHE)

find_package(ggml REQUIRED CONFIG)
find_package(llama REQUIRED CONFIG)
if(NOT TARGET whisper)   # whisper-config.cmake defines its target unguarded
  find_package(whisper REQUIRED CONFIG)
endif()

foreach(_t IN ITEMS ggml::ggml ggml::ggml-base llama whisper)
  if(NOT TARGET ${_t})
    message(FATAL_ERROR "Scribepod: the engines packages in '${_sp_engines_prefix}' did not define target ${_t}. Fix: ${_sp_engines_hint}.")
  endif()
endforeach()

# Exactly one ggml: every library must come from this prefix.
foreach(_t IN ITEMS ggml::ggml ggml::ggml-base llama whisper)
  get_target_property(_loc ${_t} IMPORTED_LOCATION)
  cmake_path(IS_PREFIX _sp_engines_prefix "${_loc}" NORMALIZE _inside)
  if(NOT _inside)
    message(FATAL_ERROR "Scribepod: ${_t} resolved to '${_loc}', outside the engines prefix '${_sp_engines_prefix}'; "
      "a second ggml/engine install is on the search path. Remove it or set SCRIBEPOD_ENGINES_PREFIX explicitly.")
  endif()
endforeach()

set(SCRIBEPOD_GGML_VERSION "${ggml_VERSION}")
set(SCRIBEPOD_LLAMA_VERSION "${LLAMA_VERSION}")
set(SCRIBEPOD_WHISPER_VERSION "${WHISPER_VERSION}")
message(STATUS "Scribepod engines: ${_sp_engines_prefix} (ggml ${ggml_VERSION}, llama.cpp ${LLAMA_VERSION}, whisper.cpp ${WHISPER_VERSION})")

if(NOT TARGET scribepod_engines)
  add_library(scribepod_engines INTERFACE)
  # whisper and llama first: static archives resolve left to right, ggml last.
  target_link_libraries(scribepod_engines INTERFACE whisper llama ggml::ggml ggml::ggml-base)
  # One include dir holds whisper.h, llama.h and ggml*.h. SYSTEM so our
  # -Werror warning set stays quiet on their headers.
  target_include_directories(scribepod_engines SYSTEM INTERFACE "${_sp_engines_prefix}/include")
  foreach(_t IN ITEMS whisper llama ggml::ggml ggml::ggml-base)
    get_target_property(_inc ${_t} INTERFACE_INCLUDE_DIRECTORIES)
    if(_inc)
      target_include_directories(scribepod_engines SYSTEM INTERFACE ${_inc})
    endif()
  endforeach()
endif()

unset(_sp_engines_args)
unset(_sp_engines_rc)
unset(_sp_engines_err)
unset(_sp_engines_from)
unset(_loc)
unset(_inc)
unset(_inside)
unset(_t)
