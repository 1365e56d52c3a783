#pragma once
// Errors at the boundaries (files, configs, CLI, network) are thrown as
// mobilellm::Error with a message that says what is wrong and where.
// Invariants inside the engine are asserts, not exceptions.
#include <stdexcept>
#include <string>

namespace mobilellm {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

}  // namespace mobilellm
