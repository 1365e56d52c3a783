#pragma once
// Tests that start threads, run by a cross build under qemu-user
// (cmake/toolchains/): on some hosts qemu-user hangs at the first thread a
// program starts. Such a test begins with MOBILELLM_SKIP_WITHOUT_THREADS(),
// which skips it, saying why, instead of hanging the run.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include "runtime/cpu_features.h"

namespace mobilellm::test {

// Empty where threads start (always, natively); else the reason. Under
// emulation a child process starts and joins one thread, within 20 s.
inline const std::string& threads_unavailable() {
  static const std::string why = []() -> std::string {
    if (!cpu_features().emulated) return "";
    const pid_t child = fork();
    if (child < 0) return "";
    if (child == 0) {
      std::thread([] {}).join();
      _exit(0);
    }
    for (int waited_ms = 0; waited_ms < 20000; waited_ms += 10) {
      int status = 0;
      if (waitpid(child, &status, WNOHANG) == child) {
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return "";
        return "emulated: a child process could not start a thread";
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    kill(child, SIGKILL);
    waitpid(child, nullptr, 0);
    return "emulated: qemu-user hangs at the first thread on this host, and this test starts threads";
  }();
  return why;
}

}  // namespace mobilellm::test

#define MOBILELLM_SKIP_WITHOUT_THREADS()                                                                             \
  do {                                                                                                               \
    if (!::mobilellm::test::threads_unavailable().empty()) GTEST_SKIP() << ::mobilellm::test::threads_unavailable(); \
  } while (0)
