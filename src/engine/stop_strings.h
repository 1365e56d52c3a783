#pragma once
// Ends generated text at the first occurrence of any stop string. Text that
// could be the beginning of a stop string is held back until the next piece
// shows whether it is, so streamed text never contains part of a stop string.
#include <string>
#include <string_view>
#include <vector>

namespace mobilellm::engine {

class StopStrings {
 public:
  explicit StopStrings(std::vector<std::string> stops);
  // Appends generated text; returns the part that is now safe to emit. After a
  // match, returns the text before the stop string and then nothing.
  std::string push(std::string_view text);
  bool matched() const { return matched_; }
  // The held-back text, at the end of the generation (empty after a match).
  std::string flush();

 private:
  std::vector<std::string> stops_;
  std::string held_;
  bool matched_ = false;
};

}  // namespace mobilellm::engine
