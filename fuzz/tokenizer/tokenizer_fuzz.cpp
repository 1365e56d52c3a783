// libFuzzer target for the tokenizer: loading (tiktoken ranks, tokenizer.json),
// encoding and decoding, the split matcher against PCRE2, and chat templates.
// The first input byte picks the part; the rest is its input. Any
// mobilellm::Error is an accepted answer to bad input; a crash, a sanitizer
// report, another exception or a broken invariant is a finding.
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "chat/chat_format.h"
#include "chat/jinja/template.h"
#include "runtime/error.h"
#include "tokenizer/llama4_splitter.h"
#include "tokenizer/pcre2_splitter.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"

namespace {

using namespace mobilellm;

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant broken: %s\n", what);
    std::abort();
  }
}

const Tokenizer& llama4() {
  static const Tokenizer tok = Tokenizer::load(std::filesystem::path(MOBILELLM_TOKENIZER_DATA) / "tokenizer.model");
  return tok;
}

// Encoding, decoding and streaming of arbitrary bytes with the real vocabulary.
void fuzz_encode(const std::string& text, uint8_t flags) {
  EncodeOptions opts{.add_bos = (flags & 1) != 0, .parse_special = (flags & 2) != 0, .lossy_utf8 = (flags & 4) != 0};
  std::vector<int32_t> ids;
  try {
    ids = llama4().encode(text, opts);
  } catch (const Error&) {
    check(!opts.lossy_utf8 && tokenizer::find_invalid_utf8(text) != std::string::npos, "encode failed on valid input");
    return;
  }
  std::string want = opts.lossy_utf8 ? tokenizer::replace_invalid_utf8(text) : text;
  std::string got = llama4().decode(ids);
  if (opts.add_bos) got.erase(0, llama4().token_bytes(llama4().bos_id()).size());
  check(got == want, "decode(encode(text)) != text");
  StreamDecoder stream(llama4());
  std::string streamed;
  for (int32_t id : ids) streamed += stream.push(id);
  streamed += stream.flush();
  check(streamed == tokenizer::replace_invalid_utf8(llama4().decode(ids)), "streamed text differs");
}

// Characters whose class is the same in Unicode 14 (PCRE2 10.42) and 16,
// one or more of every class the split regex tells apart.
constexpr char32_t kPalette[] = {U'a',   U'z',    U'A',   U'Z',   U'0',   U'9',   U' ',   U'\t',  U'\n',  U'\r',
                                 U'\'',  U's',    U'S',   U't',   U'r',   U'e',   U'v',   U'm',   U'l',   U'L',
                                 U'd',   U'D',    U'!',   U'/',   U'.',   0x17F,  0x4E2D, 0x02B0, 0x01C5, 0x0301,
                                 0x0903, 0x20DD,  0x0663, 0x216B, 0x00BD, 0x00A0, 0x3000, 0x2028, 0x000B, 0x001C,
                                 0x200B, 0x1F600, 0xE000, 0x0378, 0x00E9, 0x0416, 0x0436};

// The hand-written matcher against PCRE2 running the same regex.
void fuzz_split(const uint8_t* data, size_t size) {
  static const tokenizer::Llama4Splitter ours;
  static const tokenizer::Pcre2Splitter pcre2(tokenizer::kLlama4Pattern);
  std::string text;
  for (size_t i = 0; i < size; ++i) tokenizer::append_utf8(text, kPalette[data[i] % std::size(kPalette)]);
  std::vector<std::string_view> a, b;
  ours.split(text, a);
  pcre2.split(text, b);
  check(a == b, "Llama4Splitter and PCRE2 split differently");
}

// Loading a tokenizer file (in memory, as a model file's tokenizer loads),
// then using whatever loaded.
void fuzz_load(const std::string& content, const char* name) {
  try {
    Tokenizer tok = Tokenizer::load_files("fuzz input", {{name, content}});
    for (const char* text : {"Hello world, it's 2024!\n", "  \xE4\xB8\xAD\xE6\x96\x87 <|eot|> x"}) {
      std::vector<int32_t> ids = tok.encode(text, {.parse_special = true});
      std::string back = tok.decode(ids);
      (void)back;  // vocabularies from the fuzzer need not round-trip; they must not crash
    }
  } catch (const Error&) {
  }
}

void fuzz_template(const std::string& source) {
  static const Json context = {
      {"messages",
       Json::array({{{"role", "system"}, {"content", " sys "}},
                    {{"role", "user"}, {"content", "hi"}},
                    {{"role", "assistant"},
                     {"content", ""},
                     {"tool_calls", Json::array({{{"function", {{"name", "f"}, {"arguments", {{"x", 1}}}}}}})}}})},
      {"tools", Json::array({{{"name", "f"}, {"parameters", Json::object()}}})},
      {"add_generation_prompt", true},
      {"bos_token", "<|begin_of_text|>"},
      {"n", 3},
      {"f", 1.5}};
  try {
    jinja::Template t(source);
    std::string out = t.render(context);
    (void)out;
  } catch (const Error&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 5) {
    case 0: fuzz_encode(rest, data[0] / 5); break;
    case 1: fuzz_split(data + 1, size - 1); break;
    case 2: fuzz_load(rest, "tokenizer.json"); break;
    case 3: fuzz_load(rest, "tokenizer.model"); break;
    case 4: fuzz_template(rest); break;
  }
  return 0;
}
