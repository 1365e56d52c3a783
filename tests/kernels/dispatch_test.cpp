// Table selection: the best runnable ISA by default, MOBILELLM_ISA to force one,
// a clear error for a name that is unknown or not runnable here.
#include <cstdlib>

#include "kernel_test_util.h"
#include "runtime/cpu_features.h"
#include "runtime/error.h"

namespace mobilellm::kernels::test {
namespace {

TEST(Dispatch, RunnableIsasStartWithScalarAndHaveTables) {
  std::vector<Isa> isas = runnable_isas();
  ASSERT_FALSE(isas.empty());
  EXPECT_EQ(isas.front(), Isa::kScalar);
  for (Isa isa : isas) {
    const FloatKernels* table = float_kernels_for(isa);
    ASSERT_NE(table, nullptr) << isa_name(isa);
    EXPECT_EQ(table->isa, isa);
  }
#if defined(__x86_64__)
  EXPECT_EQ(float_kernels_for(Isa::kAvx2) != nullptr, cpu_features().avx2);
  EXPECT_EQ(float_kernels_for(Isa::kAvx512) != nullptr, cpu_features().avx512);
  EXPECT_EQ(float_kernels_for(Isa::kNeon), nullptr);
#endif
}

// Run once plain and once by CTest with MOBILELLM_ISA=scalar.
TEST(Dispatch, ChoosesBestOrForcedIsa) {
  const char* forced = std::getenv("MOBILELLM_ISA");
  Isa want = forced && *forced ? Isa::kScalar : runnable_isas().back();
  if (forced && *forced) {
    ASSERT_STREQ(forced, "scalar") << "this test knows how to check only a forced scalar";
  }
  EXPECT_EQ(float_kernels().isa, want);
}

int choose_with(const char* value) {
  setenv("MOBILELLM_ISA", value, 1);
  try {
    float_kernels();
  } catch (const Error& e) {
    std::fprintf(stderr, "%s\n", e.what());
    std::exit(3);
  }
  std::exit(0);
}

TEST(DispatchDeathTest, RejectsUnknownOrUnrunnableIsa) {
  // A fresh process: the choice is made once per process. Under qemu-user
  // the binary cannot exec itself (the host runs no aarch64 binaries), so
  // there the child is a fork, before any test chose (death tests run first).
  GTEST_FLAG_SET(death_test_style, cpu_features().emulated ? "fast" : "threadsafe");
  EXPECT_EXIT(choose_with("sse9"), testing::ExitedWithCode(3), "unknown ISA");
#if defined(__x86_64__)
  EXPECT_EXIT(choose_with("neon"), testing::ExitedWithCode(3), "not compiled into this build");
#endif
}

}  // namespace
}  // namespace mobilellm::kernels::test
