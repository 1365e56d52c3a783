#pragma once
// MOBILELLM_DASSERT(cond): checks an index or shape assumption of a hot path
// in debug and sanitizer builds (MOBILELLM_SANITIZE, or NDEBUG unset) and
// aborts naming the condition and the line; compiled out of Release builds,
// where the condition is not evaluated. Bad input is an Error, never this:
// the macro states what the code itself guarantees.
#include <cstdio>
#include <cstdlib>

#if defined(MOBILELLM_SANITIZE) || !defined(NDEBUG)
#define MOBILELLM_DASSERT(cond)                                                              \
  do {                                                                                       \
    if (!(cond)) {                                                                           \
      std::fprintf(stderr, "%s:%d: internal check failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                          \
    }                                                                                        \
  } while (false)
#else
#define MOBILELLM_DASSERT(cond) \
  do {                          \
  } while (false && (cond))
#endif
