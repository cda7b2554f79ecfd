# llm_openai_test: the OpenAI-compatible generator. The wire format is tested
# on its own; the engine runs over real loopback sockets against TestPeer, a
# test double of a chat-completions server that misbehaves on purpose
# (tests/remote/test_peer.h).
scribepod_add_test(llm_openai_test
  SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/openai_chat_completion_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/openai_generator_test.cpp
  LIBS scribepod_llm scribepod_test_peer nlohmann_json::nlohmann_json
  LABELS unit)
