# mobilellm_fuzzer(NAME SOURCES … [LIBS …] [DEFINITIONS …] [DICT file] [MAX_LEN bytes])
# A libFuzzer target (with AddressSanitizer and UndefinedBehaviorSanitizer)
# whose seed corpus is corpus/ next to the calling CMakeLists.txt. The code
# under test is listed in SOURCES so that it carries coverage instrumentation
# (the libraries stay uninstrumented for the other targets of the build).
# Every target is recorded in ${CMAKE_BINARY_DIR}/fuzz_targets.tsv (name,
# binary, corpus, dictionary, max_len), which fuzz/run_all.sh runs.
#   cmake -S . -B build-fuzz -G Ninja -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DMOBILELLM_FUZZ=ON
#   fuzz/run_all.sh 60
if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  message(FATAL_ERROR "MOBILELLM_FUZZ needs clang for libFuzzer: configure with -DCMAKE_CXX_COMPILER=clang++")
endif()
set(MOBILELLM_FUZZ_TARGETS "${CMAKE_BINARY_DIR}/fuzz_targets.tsv")
file(WRITE ${MOBILELLM_FUZZ_TARGETS} "")

# mobilellm_fuzz_library(NAME SOURCES … [LIBS …]): code under test shared by
# several targets, compiled once with their instrumentation.
function(mobilellm_fuzz_library name)
  cmake_parse_arguments(F "" "" "SOURCES;LIBS" ${ARGN})
  add_library(${name} STATIC ${F_SOURCES})
  target_compile_options(${name} PRIVATE
    -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g)
  target_link_libraries(${name} PUBLIC mobilellm_internal ${F_LIBS})
endfunction()

function(mobilellm_fuzzer name)
  cmake_parse_arguments(F "" "DICT;MAX_LEN" "SOURCES;LIBS;DEFINITIONS" ${ARGN})
  add_executable(${name} ${F_SOURCES})
  target_compile_options(${name} PRIVATE
    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g)
  target_link_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_libraries(${name} PRIVATE mobilellm_internal ${F_LIBS})
  target_compile_definitions(${name} PRIVATE ${F_DEFINITIONS})
  if(F_DICT)
    set(dict ${CMAKE_CURRENT_SOURCE_DIR}/${F_DICT})
  else()
    set(dict -)
  endif()
  if(NOT F_MAX_LEN)
    set(F_MAX_LEN 0)
  endif()
  file(APPEND ${MOBILELLM_FUZZ_TARGETS}
    "${name}\t${CMAKE_BINARY_DIR}/bin/${name}\t${CMAKE_CURRENT_SOURCE_DIR}/corpus\t${dict}\t${F_MAX_LEN}\n")
endfunction()
