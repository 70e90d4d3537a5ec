# Installs the headers under include/mproc/ (same spelling as in the repo:
# #include "api/process.h") and exports mproc::api plus one target per backend,
# for find_package(mproc).
include_guard(GLOBAL)
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(DIRECTORY "${PROJECT_SOURCE_DIR}/api/"
  DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}/mproc/api" FILES_MATCHING PATTERN "*.h")

set_target_properties(mproc_api PROPERTIES EXPORT_NAME api)
set(_mproc_install_targets mproc_api)
foreach(backend thread posix windows)
  if(TARGET mproc_${backend})
    set_target_properties(mproc_${backend} PROPERTIES EXPORT_NAME ${backend})
    list(APPEND _mproc_install_targets mproc_${backend})
    install(DIRECTORY "${PROJECT_SOURCE_DIR}/backends/${backend}/"
      DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}/mproc/backends/${backend}"
      FILES_MATCHING PATTERN "*.h")
  endif()
endforeach()

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
include("${CMAKE_CURRENT_LIST_DIR}/mprocTargets.cmake")
]=])
configure_package_config_file("${PROJECT_BINARY_DIR}/mprocConfig.cmake.in"
  "${PROJECT_BINARY_DIR}/mprocConfig.cmake"
  INSTALL_DESTINATION "${CMAKE_INSTALL_LIBDIR}/cmake/mproc")
write_basic_package_version_file("${PROJECT_BINARY_DIR}/mprocConfigVersion.cmake"
  COMPATIBILITY SameMinorVersion)
install(FILES "${PROJECT_BINARY_DIR}/mprocConfig.cmake"
  "${PROJECT_BINARY_DIR}/mprocConfigVersion.cmake"
  DESTINATION "${CMAKE_INSTALL_LIBDIR}/cmake/mproc")
