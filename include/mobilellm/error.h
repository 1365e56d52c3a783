#pragma once
// The exception the API throws: a message that says what is wrong and where
// (a file, a JSON path, a parameter).
#include <stdexcept>
#include <string>

namespace mobilellm {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

}  // namespace mobilellm
