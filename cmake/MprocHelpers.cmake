# Helper functions shared by every folder.
include_guard(GLOBAL)
# mproc_add_conformance_test and mproc_discover_gtests: also installed, for
# backends outside this repository.
include(MprocConformance)

# mproc_library_options(<target>)
# Compile options of mproc's own libraries (the api and every backend). On ELF
# systems, -fno-plt: calls into shared libraries go through GOT entries bound
# when the program loads, not through lazily bound PLT stubs. A forked child
# runs mproc code its parent never ran (the child's prologue, the Manager
# server), and each first call through a lazy stub would make it search every
# loaded library's symbol table (Debian's Abseil alone is dozens of
# libraries), touching pages copy-on-write: about 10 us a symbol, 0.2 ms per
# Manager server measured here. The options are PRIVATE: they do not change
# how the user's own code is compiled.
function(mproc_library_options TARGET)
  if(NOT WIN32)
    target_compile_options(${TARGET} PRIVATE -fno-plt)
  endif()
endfunction()

# mproc_add_backend(NAME <name> SOURCES ...)
# Declares backend `name` as an OBJECT library (so its self-registration survives static
# linking) with the alias mproc::<name>. A backend links only mproc::api.
function(mproc_add_backend)
  cmake_parse_arguments(ARG "" "NAME" "SOURCES;LIBS" ${ARGN})
  add_library(mproc_${ARG_NAME} OBJECT ${ARG_SOURCES})
  mproc_library_options(mproc_${ARG_NAME})
  target_link_libraries(mproc_${ARG_NAME} PUBLIC mproc::api ${ARG_LIBS})
  add_library(mproc::${ARG_NAME} ALIAS mproc_${ARG_NAME})
endfunction()

# mproc_add_test(NAME <name> SOURCES ... LIBS ... LABELS ... [FILTER <gtest filter>])
# A GoogleTest binary whose tests are each registered with ctest (gtest_discover_tests);
# with FILTER, only the tests it matches.
function(mproc_add_test)
  cmake_parse_arguments(ARG "" "NAME;FILTER" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${ARG_NAME} ${ARG_SOURCES})
  target_link_libraries(${ARG_NAME} PRIVATE mproc_test_main ${ARG_LIBS})
  mproc_discover_gtests(${ARG_NAME} FILTER "${ARG_FILTER}" LABELS "${ARG_LABELS}")
endfunction()

# mproc_add_example(NAME <name> ARGS ... EXPECT ...)
# Builds examples/<name>.cc into build/examples/<name>.
function(mproc_add_example NAME)
  add_executable(${NAME} ${NAME}.cc)
  target_link_libraries(${NAME} PRIVATE mproc_workloads mproc_all_backends absl::flags
    absl::flags_parse)
  set_target_properties(${NAME} PROPERTIES RUNTIME_OUTPUT_DIRECTORY
    "${CMAKE_BINARY_DIR}/examples")
endfunction()

# mproc_add_example_test(NAME <test> EXAMPLE <name> ARGS ... EXPECT <regex>...)
# Runs an example and checks its exit code and that every EXPECT regex matches one of its
# output lines, in order (cmake/CheckOutput.cmake).
function(mproc_add_example_test)
  cmake_parse_arguments(ARG "" "NAME;EXAMPLE" "ARGS;EXPECT" ${ARGN})
  string(REPLACE ";" "%%" _expect "${ARG_EXPECT}")
  string(REPLACE ";" "%%" _args "${ARG_ARGS}")
  add_test(NAME ${ARG_NAME}
    COMMAND ${CMAKE_COMMAND}
      "-DEMULATOR=${CMAKE_CROSSCOMPILING_EMULATOR}"
      "-DPROGRAM=$<TARGET_FILE:${ARG_EXAMPLE}>"
      "-DARGS=${_args}"
      "-DEXPECT=${_expect}"
      -P "${PROJECT_SOURCE_DIR}/cmake/CheckOutput.cmake")
  set_tests_properties(${ARG_NAME} PROPERTIES LABELS "example" TIMEOUT 120)
endfunction()
