# mproc_add_conformance_test(BACKEND <label-suffix> SOURCES ... LIBS ... [FILTER ...])
#
# The conformance suite (tests/conformance/conformance.h) instantiated for one
# backend: a GoogleTest binary conformance_<backend>_test whose tests ctest
# runs under the labels `conformance` and `conformance-<backend>`. SOURCES
# hold the MPROC_INSTANTIATE_CONFORMANCE_SUITE line(s) and the backend's
# probe and hooks; LIBS its backend target (mproc::posix, your own). FILTER (a
# gtest filter) picks one instantiation of a file that has several.
#
# The same file serves this repository's build and an outside project
# (installed next to mprocConfig.cmake, included by find_package(mproc)):
# it links mproc::conformance (the suite), mproc::workloads (its registered
# targets) and mproc::test_main (a main that calls RunChildIfRequested first),
# which exist under these names in both.
include_guard(GLOBAL)
include(GoogleTest)

# mproc_discover_gtests(<target> LABELS ... [FILTER <gtest filter>])
# Registers each test of GoogleTest binary <target> with ctest
# (gtest_discover_tests), with LABELS; with FILTER, only the tests it matches.
function(mproc_discover_gtests TARGET)
  cmake_parse_arguments(ARG "" "FILTER" "LABELS" ${ARGN})
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
  gtest_discover_tests(${TARGET} ${_filter} ${_discovery}
    PROPERTIES TIMEOUT 120
    DISCOVERY_TIMEOUT 60)
  # gtest_discover_tests flattens PROPERTIES (LABELS "a;b" would become label
  # a and a property named b), so the labels are set after discovery instead.
  set(_labels_script "${CMAKE_CURRENT_BINARY_DIR}/${TARGET}_labels.cmake")
  file(WRITE "${_labels_script}"
    "foreach(_test IN LISTS ${TARGET}_TESTS)\n"
    "  set_tests_properties(\"\${_test}\" PROPERTIES LABELS \"${ARG_LABELS}\")\n"
    "endforeach()\n")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES "${_labels_script}")
endfunction()

function(mproc_add_conformance_test)
  cmake_parse_arguments(ARG "" "BACKEND;FILTER" "SOURCES;LIBS" ${ARGN})
  set(_name conformance_${ARG_BACKEND}_test)
  add_executable(${_name} ${ARG_SOURCES})
  # OBJECT libraries hand their objects only to direct dependents: each is
  # linked here, so every test and every registered target is in the binary.
  target_link_libraries(${_name} PRIVATE mproc::test_main mproc::conformance
    mproc::workloads ${ARG_LIBS})
  mproc_discover_gtests(${_name} FILTER "${ARG_FILTER}"
    LABELS "conformance;conformance-${ARG_BACKEND}")
endfunction()
