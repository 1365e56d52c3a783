// `mobilellm tokenize` and `mobilellm detokenize`: the tokenizer on its own,
// for scripts and external checks. Contract (issue 3): tokenize prints the ids
// of stdin on one line separated by single spaces; detokenize writes exactly
// the bytes of the ids read from stdin.
#include <charconv>
#include <cstdio>
#include <iostream>
#include <iterator>
#include <memory>
#include <string>

#include "commands.h"
#include "runtime/error.h"
#include "tokenizer/tokenizer.h"

namespace mobilellm::cli {
namespace {

std::string read_stdin() {
  std::string data;
  char buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, stdin)) > 0) data.append(buf, n);
  if (std::ferror(stdin)) throw Error("cannot read standard input");
  return data;
}

std::vector<int32_t> parse_id_list(const std::string& text) {
  std::vector<int32_t> ids;
  size_t i = 0;
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; };
  while (true) {
    while (i < text.size() && space(text[i])) ++i;
    if (i == text.size()) break;
    size_t end = i;
    while (end < text.size() && !space(text[end])) ++end;
    int32_t id = 0;
    auto [p, ec] = std::from_chars(text.data() + i, text.data() + end, id);
    if (ec != std::errc() || p != text.data() + end)
      throw Error("not a token id: \"" + text.substr(i, std::min<size_t>(end - i, 40)) + "\"");
    ids.push_back(id);
    i = end;
  }
  return ids;
}

void write_stdout(std::string_view bytes) {
  if (std::fwrite(bytes.data(), 1, bytes.size(), stdout) != bytes.size() || std::fflush(stdout) != 0)
    throw Error("cannot write standard output");
}

}  // namespace

void add_tokenize_commands(CLI::App& app) {
  struct Options {
    std::string tokenizer;
    bool bos = false, special = false;
  };
  auto opts = std::make_shared<Options>();

  CLI::App* tok = app.add_subcommand("tokenize", "Print the token ids of UTF-8 text read from stdin");
  tok->add_option("--tokenizer", opts->tokenizer,
                  "tokenizer.model, tokenizer.json, a GGUF model file or a checkpoint directory")
      ->required();
  tok->add_flag("--bos", opts->bos, "Prepend the BOS token");
  tok->add_flag("--special", opts->special, "Parse special-token text such as <|eot|> as special tokens");
  tok->callback([opts] {
    Tokenizer t = Tokenizer::load(opts->tokenizer);
    std::vector<int32_t> ids = t.encode(read_stdin(), {.add_bos = opts->bos, .parse_special = opts->special});
    std::string line;
    for (size_t i = 0; i < ids.size(); ++i) {
      if (i) line += ' ';
      line += std::to_string(ids[i]);
    }
    line += '\n';
    write_stdout(line);
  });

  CLI::App* detok = app.add_subcommand("detokenize", "Write the bytes of the token ids read from stdin");
  detok
      ->add_option("--tokenizer", opts->tokenizer,
                   "tokenizer.model, tokenizer.json, a GGUF model file or a checkpoint directory")
      ->required();
  detok->callback([opts] {
    Tokenizer t = Tokenizer::load(opts->tokenizer);
    write_stdout(t.decode(parse_id_list(read_stdin())));
  });
}

}  // namespace mobilellm::cli
