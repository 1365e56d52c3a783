// Included after every public header by the generated all_public_headers.cpp
// (tests/api/CMakeLists.txt), which has only include/ on its include path.
// The headers must not pull in a third-party library: a program that embeds
// the engine needs none of them.
#if defined(NLOHMANN_JSON_VERSION_MAJOR) || defined(CPPHTTPLIB_VERSION) || defined(CLI11_VERSION)
#error "a public header includes a third-party library"
#endif

#include <type_traits>

// The types a caller fills in are complete and usable without the library.
static_assert(std::is_default_constructible_v<mobilellm::EngineOptions>);
static_assert(std::is_default_constructible_v<mobilellm::GenerateRequest>);
static_assert(std::is_aggregate_v<mobilellm::ChatMessage>);
static_assert(std::is_base_of_v<std::exception, mobilellm::Error>);

int main() {
  mobilellm::EngineOptions options;
  mobilellm::GenerateRequest request;
  mobilellm::ChatMessage message;
  message.role = "user";
  return options.require_tokenizer && request.max_tokens > 0 && !message.content_is_json ? 0 : 1;
}
