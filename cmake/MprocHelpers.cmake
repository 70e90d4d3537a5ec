# Helper functions shared by every folder.
include_guard(GLOBAL)

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
  set(_filter)
  if(ARG_FILTER)
    set(_filter TEST_FILTER "${ARG_FILTER}")
  endif()
  # A cross build lists the tests when ctest runs (through
  # CMAKE_CROSSCOMPILING_EMULATOR, e.g. Wine), not at build time: the build
  # machine need not run the binaries, and the build does not wait for Wine.
  set(_discovery)
  if(CMAKE_CROSSCOMPILING)
    set(_discovery DISCOVERY_MODE PRE_TEST)
  endif()
  gtest_discover_tests(${ARG_NAME} ${_filter} ${_discovery}
    PROPERTIES TIMEOUT 120
    DISCOVERY_TIMEOUT 60)
  # gtest_discover_tests flattens PROPERTIES (LABELS "a;b" would become label a
  # and a property named b), so the labels are set after discovery instead.
  set(_labels_script "${CMAKE_CURRENT_BINARY_DIR}/${ARG_NAME}_labels.cmake")
  file(WRITE "${_labels_script}"
    "foreach(_test IN LISTS ${ARG_NAME}_TESTS)\n"
    "  set_tests_properties(\"\${_test}\" PROPERTIES LABELS \"${ARG_LABELS}\")\n"
    "endforeach()\n")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES "${_labels_script}")
endfunction()

# mproc_add_conformance_test(BACKEND <label-suffix> SOURCES ... LIBS ... [FILTER ...])
# The conformance suite instantiated for one backend: labels conformance and
# conformance-<backend>. FILTER picks one instantiation of a file that has several.
function(mproc_add_conformance_test)
  cmake_parse_arguments(ARG "" "BACKEND;FILTER" "SOURCES;LIBS" ${ARGN})
  mproc_add_test(NAME conformance_${ARG_BACKEND}_test
    SOURCES ${ARG_SOURCES}
    LIBS mproc_conformance mproc_workloads ${ARG_LIBS}
    LABELS "conformance;conformance-${ARG_BACKEND}"
    FILTER "${ARG_FILTER}")
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
