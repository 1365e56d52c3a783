#pragma once
// Errors at the boundaries (files, configs, CLI, network) are thrown as
// mobilellm::Error (a public type: include/mobilellm/error.h) with a message
// that says what is wrong and where. Invariants inside the engine are
// asserts, not exceptions.
#include "mobilellm/error.h"
