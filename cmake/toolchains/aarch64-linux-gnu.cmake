# Cross-compiles for 64-bit ARM Linux (Raspberry Pi OS 64-bit, Graviton,
# Debian/Ubuntu arm64) with Debian's g++-aarch64-linux-gnu and the :arm64
# development packages (scripts/setup.sh --tests installs both):
#   cmake -S . -B build-aarch64 -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/aarch64-linux-gnu.cmake
# Test binaries run under qemu-user (CMAKE_CROSSCOMPILING_EMULATOR). Its
# default CPU model has every extension the kernels dispatch on (dot product,
# i8mm); the environment variable QEMU_CPU picks another at run time, e.g.
# QEMU_CPU=cortex-a53 (no dot product) or cortex-a76 (dot product, no i8mm).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)

# Libraries and headers of the target only; programs (python, pkg-config) of the host.
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(ENV{PKG_CONFIG_LIBDIR} /usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig)

find_program(MOBILELLM_QEMU_AARCH64 NAMES qemu-aarch64-static qemu-aarch64)
if(MOBILELLM_QEMU_AARCH64)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${MOBILELLM_QEMU_AARCH64})
endif()
