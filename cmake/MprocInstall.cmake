# Installs the headers under include/mproc/ (same spelling as in the repo:
# #include "api/process.h") and exports, for find_package(mproc): mproc::api,
# one target per backend built (MPROC_BACKENDS), mproc::workloads and, when
# the tests are built, the conformance suite for backends outside this
# repository: mproc::conformance, mproc::test_main and the CMake function
# mproc_add_conformance_test (cmake/MprocConformance.cmake).
include_guard(GLOBAL)
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(DIRECTORY "${PROJECT_SOURCE_DIR}/api/"
  DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}/mproc/api" FILES_MATCHING PATTERN "*.h")

set_target_properties(mproc_api PROPERTIES EXPORT_NAME api)
set(_mproc_install_targets mproc_api)
foreach(backend IN LISTS MPROC_BACKENDS)
  set_target_properties(mproc_${backend} PROPERTIES EXPORT_NAME ${backend})
  list(APPEND _mproc_install_targets mproc_${backend})
  install(DIRECTORY "${PROJECT_SOURCE_DIR}/backends/${backend}/"
    DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}/mproc/backends/${backend}"
    FILES_MATCHING PATTERN "*.h")
endforeach()

set_target_properties(mproc_workloads PROPERTIES EXPORT_NAME workloads)
list(APPEND _mproc_install_targets mproc_workloads)
install(FILES "${PROJECT_SOURCE_DIR}/workloads/workloads.h"
  DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}/mproc/workloads")

# The conformance suite, its test helpers and its main (not in the fuzz
# build, which builds no suite).
set(_mproc_install_conformance OFF)
if(TARGET mproc_conformance AND TARGET mproc_test_main)
  set(_mproc_install_conformance ON)
  set_target_properties(mproc_conformance PROPERTIES EXPORT_NAME conformance)
  set_target_properties(mproc_test_main PROPERTIES EXPORT_NAME test_main)
  list(APPEND _mproc_install_targets mproc_conformance mproc_test_main)
  install(FILES "${PROJECT_SOURCE_DIR}/tests/conformance/conformance.h"
    DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}/mproc/tests/conformance")
  install(DIRECTORY "${PROJECT_SOURCE_DIR}/tests/testing/"
    DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}/mproc/tests/testing"
    FILES_MATCHING PATTERN "*.h")
  install(FILES "${PROJECT_SOURCE_DIR}/cmake/MprocConformance.cmake"
    DESTINATION "${CMAKE_INSTALL_LIBDIR}/cmake/mproc")
endif()

install(TARGETS ${_mproc_install_targets} EXPORT mprocTargets
  ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}"
  OBJECTS DESTINATION "${CMAKE_INSTALL_LIBDIR}/mproc-objects"
  INCLUDES DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}/mproc")
install(EXPORT mprocTargets NAMESPACE mproc::
  DESTINATION "${CMAKE_INSTALL_LIBDIR}/cmake/mproc")

file(WRITE "${PROJECT_BINARY_DIR}/mprocConfig.cmake.in" [=[
@PACKAGE_INIT@
include(CMakeFindDependencyMacro)
find_dependency(Threads)
find_dependency(absl CONFIG)
find_dependency(Microsoft.GSL CONFIG)
# The backends installed, as MPROC_BACKENDS was when mproc was built.
set(mproc_BACKENDS "@MPROC_BACKENDS@")
set(mproc_CONFORMANCE_FOUND @_mproc_install_conformance@)
if(mproc_CONFORMANCE_FOUND)
  find_dependency(GTest CONFIG)
endif()
include("${CMAKE_CURRENT_LIST_DIR}/mprocTargets.cmake")
if(mproc_CONFORMANCE_FOUND)
  include("${CMAKE_CURRENT_LIST_DIR}/MprocConformance.cmake")
endif()
]=])
configure_package_config_file("${PROJECT_BINARY_DIR}/mprocConfig.cmake.in"
  "${PROJECT_BINARY_DIR}/mprocConfig.cmake"
  INSTALL_DESTINATION "${CMAKE_INSTALL_LIBDIR}/cmake/mproc")
write_basic_package_version_file("${PROJECT_BINARY_DIR}/mprocConfigVersion.cmake"
  COMPATIBILITY SameMinorVersion)
install(FILES "${PROJECT_BINARY_DIR}/mprocConfig.cmake"
  "${PROJECT_BINARY_DIR}/mprocConfigVersion.cmake"
  DESTINATION "${CMAKE_INSTALL_LIBDIR}/cmake/mproc")
