# Tests of the llama.cpp engine and the JSON-schema subset (one owner).
# Both generate tiny random-weight GGUF models at run time with
# tools/make_tiny_gguf; no model file is ever committed.
if(TARGET scribepod_engines AND TARGET make_tiny_gguf)
  scribepod_add_test(llm_json_schema_test
    SOURCES json_schema_test.cpp
    LIBS scribepod_llm scribepod_engines
    LABELS unit)
  scribepod_add_test(llm_llama_test
    SOURCES llama_generator_test.cpp llama_utf8_stream_test.cpp llama_token_sampler_test.cpp
    LIBS scribepod_llm scribepod_engines nlohmann_json::nlohmann_json
    LABELS unit)
  foreach(_t IN ITEMS llm_json_schema_test llm_llama_test)
    target_compile_definitions(${_t} PRIVATE
      SCRIBEPOD_TINY_GGUF_TOOL="$<TARGET_FILE:make_tiny_gguf>")
    add_dependencies(${_t} make_tiny_gguf)
  endforeach()
endif()
