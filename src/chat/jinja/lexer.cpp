#include "chat/jinja/lexer.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>

#include "runtime/error.h"
#include "tokenizer/unicode_class.h"
#include "tokenizer/utf8.h"

namespace mobilellm::jinja {
namespace {

[[noreturn]] void fail(int line, const std::string& what) {
  throw Error("chat template line " + std::to_string(line) + ": " + what);
}

int count_lines(std::string_view s) {
  int n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

// Python's str.rstrip() / the \s* after "-%}": Unicode whitespace.
size_t rstrip_len(std::string_view s) {
  size_t end = s.size();
  while (end > 0) {
    size_t start = end - 1;
    while (start > 0 && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
    char32_t cp;
    if (tokenizer::utf8_sequence(s, start, &cp) == 0 || !tokenizer::is_python_space(cp)) break;
    end = start;
  }
  return end;
}

size_t lstrip_pos(std::string_view s, size_t pos) {
  while (pos < s.size()) {
    char32_t cp;
    size_t n = tokenizer::utf8_sequence(s, pos, &cp);
    if (n == 0 || !tokenizer::is_python_space(cp)) break;
    pos += n;
  }
  return pos;
}

// End of a tag body: the position of `close` outside string literals. A
// comment has no literals: jinja2 ends it at the first "#}", quotes or not.
size_t find_close(std::string_view s, size_t pos, std::string_view close, int line) {
  char quote = 0;
  bool comment = close == "#}";
  for (size_t i = pos; i < s.size(); ++i) {
    if (comment) {
      if (s.substr(i, close.size()) == close) return i;
    } else if (quote) {
      if (s[i] == '\\')
        ++i;
      else if (s[i] == quote)
        quote = 0;
    } else if (s[i] == '\'' || s[i] == '"') {
      quote = s[i];
    } else if (s.substr(i, close.size()) == close) {
      return i;
    }
  }
  fail(line, "tag is not closed (expected \"" + std::string(close) + "\")");
}

bool is_raw(std::string_view body, const char* word) {
  size_t a = 0, b = body.size();
  while (a < b && std::isspace(static_cast<unsigned char>(body[a]))) ++a;
  while (b > a && std::isspace(static_cast<unsigned char>(body[b - 1]))) --b;
  return body.substr(a, b - a) == word;
}

}  // namespace

std::vector<Segment> split_template(std::string_view source) {
  // As jinja2 by default: newlines normalised to "\n", one trailing newline dropped.
  std::string normalized;
  normalized.reserve(source.size());
  for (size_t i = 0; i < source.size(); ++i) {
    if (source[i] == '\r') {
      normalized += '\n';
      if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
    } else {
      normalized += source[i];
    }
  }
  if (!normalized.empty() && normalized.back() == '\n') normalized.pop_back();
  std::string_view src = normalized;
  std::vector<Segment> out;
  size_t pos = 0;
  int line = 1;
  bool line_starting = true;  // the previous tag ended with a newline (or this is the start)
  std::string text;
  bool in_raw = false;
  while (pos <= src.size()) {
    size_t open = src.find('{', pos);
    while (open != std::string_view::npos && open + 1 < src.size() && src[open + 1] != '{' && src[open + 1] != '%' &&
           src[open + 1] != '#')
      open = src.find('{', open + 1);
    if (open == std::string_view::npos || open + 1 >= src.size()) {
      text.append(src.substr(pos));
      if (in_raw) fail(line, "{% raw %} is not closed");
      if (!text.empty()) out.push_back({Segment::Kind::kText, text, line});
      break;
    }
    char type = src[open + 1];
    char mod = open + 2 < src.size() ? src[open + 2] : 0;
    std::string_view close = type == '{' ? "}}" : type == '%' ? "%}" : "#}";
    size_t body_start = open + 2 + (mod == '-' || mod == '+');
    size_t close_pos = find_close(src, body_start, close, line);
    bool strip_after = close_pos > body_start && src[close_pos - 1] == '-';
    bool keep_after = close_pos > body_start && src[close_pos - 1] == '+';
    std::string_view body = src.substr(body_start, close_pos - body_start - (strip_after || keep_after));

    if (in_raw && !(type == '%' && is_raw(body, "endraw"))) {
      text.append(src.substr(pos, open + 2 - pos));
      pos = open + 2;
      continue;
    }

    std::string before(src.substr(pos, open - pos));
    if (mod == '-') {
      before.resize(rstrip_len(before));
    } else if (mod != '+' && type != '{') {
      // lstrip_blocks: drop spaces and tabs between the line start and a block or comment tag.
      size_t l_pos = before.rfind('\n');
      l_pos = l_pos == std::string::npos ? 0 : l_pos + 1;
      if ((l_pos > 0 || line_starting) && before.find_first_not_of(" \t", l_pos) == std::string::npos)
        before.resize(l_pos);
    }
    text += before;
    line += count_lines(src.substr(pos, close_pos - pos));

    size_t after = close_pos + close.size();
    if (strip_after) {
      after = lstrip_pos(src, after);
    } else if (!keep_after && type != '{' && after < src.size() && src[after] == '\n') {
      ++after;  // trim_blocks
    }
    line_starting = after > 0 && src[after - 1] == '\n';
    line += count_lines(src.substr(close_pos, after - close_pos));

    if (type == '#') {
      pos = after;
      continue;
    }
    if (in_raw) {  // the {% endraw %} tag
      in_raw = false;
      pos = after;
      continue;
    }
    if (type == '%' && is_raw(body, "raw")) {
      in_raw = true;
      pos = after;
      continue;
    }
    if (!text.empty()) out.push_back({Segment::Kind::kText, text, line});
    text.clear();
    out.push_back({type == '{' ? Segment::Kind::kExpression : Segment::Kind::kStatement, std::string(body), line});
    pos = after;
  }
  return out;
}

std::vector<Token> tokenize_tag(std::string_view s, int line) {
  std::vector<Token> out;
  size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      line += c == '\n';
      ++i;
    } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      size_t j = i;
      while (j < s.size() && (std::isalnum(static_cast<unsigned char>(s[j])) || s[j] == '_')) ++j;
      out.push_back({Token::Kind::kName, std::string(s.substr(i, j - i)), line});
      i = j;
    } else if (std::isdigit(static_cast<unsigned char>(c))) {
      size_t j = i;
      bool is_float = false;
      while (j < s.size() && (std::isdigit(static_cast<unsigned char>(s[j])) || s[j] == '_')) ++j;
      if (j + 1 < s.size() && s[j] == '.' && std::isdigit(static_cast<unsigned char>(s[j + 1]))) {
        is_float = true;
        ++j;
        while (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) ++j;
      }
      if (j < s.size() && (s[j] == 'e' || s[j] == 'E')) {
        size_t k = j + 1;
        if (k < s.size() && (s[k] == '+' || s[k] == '-')) ++k;
        if (k < s.size() && std::isdigit(static_cast<unsigned char>(s[k]))) {
          is_float = true;
          j = k;
          while (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) ++j;
        }
      }
      std::string num(s.substr(i, j - i));
      std::erase(num, '_');
      out.push_back({is_float ? Token::Kind::kFloat : Token::Kind::kInt, num, line});
      i = j;
    } else if (c == '\'' || c == '"') {
      std::string v;
      size_t j = i + 1;
      for (; j < s.size() && s[j] != c; ++j) {
        if (s[j] != '\\' || j + 1 >= s.size()) {
          v += s[j];
          continue;
        }
        char e = s[++j];
        switch (e) {
          case 'n': v += '\n'; break;
          case 't': v += '\t'; break;
          case 'r': v += '\r'; break;
          case '0': v += '\0'; break;
          case 'a': v += '\a'; break;
          case 'b': v += '\b'; break;
          case 'f': v += '\f'; break;
          case 'v': v += '\v'; break;
          case '\\':
          case '\'':
          case '"': v += e; break;
          case '\n': break;
          case 'x':
          case 'u':
          case 'U': {
            size_t len = e == 'x' ? 2 : e == 'u' ? 4 : 8;
            uint32_t cp = 0;
            std::string_view hex = s.substr(j + 1, std::min(len, s.size() - j - 1));
            auto [end, ec] = std::from_chars(hex.data(), hex.data() + hex.size(), cp, 16);
            if (hex.size() != len || ec != std::errc() || end != hex.data() + hex.size())
              fail(line, std::string("bad \\") + e + " escape in string literal");
            if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
              fail(line, "string escape is not a Unicode scalar value (surrogates are not supported)");
            tokenizer::append_utf8(v, cp);
            j += len;
            break;
          }
          default: v += '\\'; v += e;  // unknown escapes stay as written, as in Python
        }
      }
      if (j >= s.size()) fail(line, "string literal is not closed");
      out.push_back({Token::Kind::kString, v, line});
      line += count_lines(s.substr(i, j - i));
      i = j + 1;
    } else {
      static const char* const kOps[] = {"**", "//", "==", "!=", "<=", ">=", "+", "-", "*", "/", "%", "~", "<",
                                         ">",  "=",  "(",  ")",  "[",  "]",  "{", "}", ",", ".", ":", "|"};
      bool found = false;
      for (const char* op : kOps) {
        std::string_view o(op);
        if (s.substr(i, o.size()) == o) {
          out.push_back({Token::Kind::kOp, std::string(o), line});
          i += o.size();
          found = true;
          break;
        }
      }
      if (!found) fail(line, std::string("unexpected character '") + c + "'");
    }
  }
  out.push_back({Token::Kind::kEnd, "", line});
  return out;
}

}  // namespace mobilellm::jinja
