#include "hub/select.h"

#include <fnmatch.h>

#include <algorithm>
#include <cctype>
#include <optional>
#include <regex>
#include <set>

#include "runtime/error.h"

namespace mobilellm::hub {
namespace {

bool word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// validate_repo_id(): word characters, '-' and '.', starting and ending with a
// word character, no "--" or "..", the name at most 96 characters.
bool valid_repo_part(const std::string& s, size_t max_len) {
  if (s.empty() || s.size() > max_len || !word_char(s.front()) || !word_char(s.back())) return false;
  if (s.find("--") != std::string::npos || s.find("..") != std::string::npos) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return word_char(c) || c == '-' || c == '.'; });
}

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string dirname(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? "" : path.substr(0, slash);
}

std::string basename(const std::string& path) { return path.substr(path.rfind('/') + 1); }

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool is_gguf(const std::string& path) {
  return ends_with(upper(path), ".GGUF") && upper(basename(path)).find("MMPROJ") == std::string::npos;
}

// The files a checkpoint folder needs: config, weights, tokenizer (merges.txt
// too), chat template.
bool is_checkpoint_file(const std::string& name) {
  for (const char* pattern : {"*.json", "*.safetensors", "*.model", "*.tiktoken", "*.jinja", "*.txt"})
    if (fnmatch(pattern, name.c_str(), 0) == 0) return true;
  return false;
}

// "x-00001-of-00003.gguf" → "x.gguf", so the parts of a split file go together.
std::string gguf_group(const std::string& path) {
  static const std::regex split("-[0-9]{5}-of-[0-9]{5}(\\.gguf)$", std::regex::icase);
  return std::regex_replace(path, split, "$1");
}

// llama.cpp's tag match: the tag appears in the file name between '-' or '.'
// separators ("model-Q4_K_M.gguf", "model.q4_k_m.gguf"), case-insensitively;
// '_' is part of tags, so "Q4_K" does not pick "Q4_K_M".
bool has_tag(const std::string& path, const std::string& tag) {
  const std::string name = upper(basename(gguf_group(path)));
  const std::string stem = name.substr(0, name.size() - 5);
  const std::string t = upper(tag);
  for (size_t at = stem.find(t); at != std::string::npos; at = stem.find(t, at + 1)) {
    const bool left = at == 0 || std::string("-.").find(stem[at - 1]) != std::string::npos;
    const size_t end = at + t.size();
    const bool right = end == stem.size() || std::string("-.").find(stem[end]) != std::string::npos;
    if (left && right) return true;
  }
  return false;
}

struct Location {
  std::string model_path;
  std::vector<std::string> files;
};

std::string describe(const std::set<std::string>& dirs, const std::vector<std::string>& ggufs) {
  std::string s;
  for (const auto& d : dirs)
    s += (s.empty() ? "" : ", ") + (d.empty() ? std::string("a checkpoint at the root") : d + "/");
  std::set<std::string> groups;
  for (const auto& g : ggufs) groups.insert(gguf_group(g));
  for (const auto& g : groups) s += (s.empty() ? "" : ", ") + g;
  return s.empty() ? "no config.json and no .gguf file" : s;
}

Location checkpoint_at(const std::vector<std::string>& files, const std::string& dir) {
  Location loc{dir, {}};
  for (const auto& f : files)
    if (dirname(f) == dir && is_checkpoint_file(basename(f))) loc.files.push_back(f);
  return loc;
}

// The GGUF files (all parts) whose group is `group`.
Location gguf_at(const std::vector<std::string>& ggufs, const std::string& group) {
  Location loc;
  for (const auto& g : ggufs)
    if (gguf_group(g) == group) loc.files.push_back(g);
  std::sort(loc.files.begin(), loc.files.end());
  loc.model_path = loc.files.front();  // the first part: readers find the others beside it
  return loc;
}

Location locate(const std::string& repo, const std::vector<std::string>& files, const std::string& selector) {
  std::set<std::string> dirs;
  std::vector<std::string> ggufs;
  for (const auto& f : files) {
    if (basename(f) == "config.json") dirs.insert(dirname(f));
    if (is_gguf(f)) ggufs.push_back(f);
  }
  auto gguf_matching = [&](auto&& match) -> std::optional<Location> {
    std::set<std::string> groups;
    for (const auto& g : ggufs)
      if (match(g)) groups.insert(gguf_group(g));
    if (groups.empty()) return std::nullopt;
    if (groups.size() > 1) {
      std::string list;
      for (const auto& g : groups) list += (list.empty() ? "" : ", ") + g;
      throw Error(repo + (selector.empty() ? "" : ":" + selector) + " matches several GGUF files (" + list +
                  "): name one, e.g. " + repo + ":" + basename(*groups.begin()));
    }
    return gguf_at(ggufs, *groups.begin());
  };

  if (!selector.empty()) {
    std::string dir = selector;
    while (!dir.empty() && dir.back() == '/') dir.pop_back();
    if (dirs.count(dir)) return checkpoint_at(files, dir);
    if (auto exact = gguf_matching([&](const std::string& g) {
          return g == selector || basename(g) == selector || gguf_group(g) == selector ||
                 basename(gguf_group(g)) == selector;
        }))
      return *exact;
    if (auto tagged = gguf_matching([&](const std::string& g) { return has_tag(g, selector); })) return *tagged;
    throw Error(repo + ": nothing matches \"" + selector + "\"; the repo holds " + describe(dirs, ggufs));
  }
  if (dirs.count("")) return checkpoint_at(files, "");
  if (dirs.count("instruct")) return checkpoint_at(files, "instruct");  // MobileLLM-Pro's chat model
  if (dirs.size() == 1) return checkpoint_at(files, *dirs.begin());
  if (dirs.size() > 1)
    throw Error(repo + " holds several checkpoints (" + describe(dirs, {}) + "): name one, e.g. " + repo + ":" +
                *dirs.rbegin());
  if (ggufs.empty()) throw Error(repo + " holds nothing mobilellm can load: " + describe(dirs, ggufs));
  std::set<std::string> groups;
  for (const auto& g : ggufs) groups.insert(gguf_group(g));
  if (groups.size() == 1) return gguf_at(ggufs, *groups.begin());
  if (auto q4 = gguf_matching([&](const std::string& g) { return has_tag(g, "Q4_K_M"); }))
    return *q4;  // llama.cpp's default
  throw Error(repo + " holds several GGUF files (" + describe({}, ggufs) + "): name one, e.g. " + repo + ":" +
              basename(*groups.begin()));
}

}  // namespace

bool parse_model_ref(const std::string& text, ModelRef& out) {
  const size_t colon = text.find(':');
  const std::string repo = text.substr(0, colon);
  const std::string selector = colon == std::string::npos ? "" : text.substr(colon + 1);
  const size_t slash = repo.find('/');
  if (slash == std::string::npos || repo.find('/', slash + 1) != std::string::npos) return false;
  if (!valid_repo_part(repo.substr(0, slash), 96) || !valid_repo_part(repo.substr(slash + 1), 96)) return false;
  if (colon != std::string::npos &&
      (selector.empty() ||
       !std::all_of(selector.begin(), selector.end(),
                    [](char c) { return word_char(c) || c == '-' || c == '.' || c == '/'; }) ||
       selector.find("..") != std::string::npos))
    return false;
  out = {repo, selector};
  return true;
}

Selection select_files(const std::string& repo, const std::vector<std::string>& files, const std::string& selector,
                       const std::vector<std::string>& include) {
  Selection sel;
  if (include.empty()) {
    Location loc = locate(repo, files, selector);
    return {loc.files, loc.model_path};
  }
  for (const auto& f : files)
    for (std::string pattern : include) {
      if (!pattern.empty() && pattern.back() == '/') pattern += '*';  // a folder: everything in it
      if (fnmatch(pattern.c_str(), f.c_str(), 0) == 0) {
        sel.files.push_back(f);
        break;
      }
    }
  if (sel.files.empty()) throw Error(repo + ": no file matches --include");
  try {
    sel.model_path = locate(repo, sel.files, selector).model_path;
  } catch (const Error&) {
    sel.model_path = "";  // what was included is not one model: the snapshot folder itself
  }
  return sel;
}

}  // namespace mobilellm::hub
