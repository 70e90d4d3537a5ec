# Cross-compiles for 64-bit Windows with Debian's mingw-w64 (GCC 12), for the
# `mingw` preset and scripts/test-windows.
#
# The *-posix* compilers, named explicitly: GCC 12's win32 thread model (what
# the unsuffixed x86_64-w64-mingw32-g++ points to by default) has no
# std::thread or std::mutex.
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(_mproc_mingw x86_64-w64-mingw32)

set(CMAKE_C_COMPILER /usr/bin/${_mproc_mingw}-gcc-posix)
set(CMAKE_CXX_COMPILER /usr/bin/${_mproc_mingw}-g++-posix)
set(CMAKE_RC_COMPILER /usr/bin/${_mproc_mingw}-windres)
set(CMAKE_AR /usr/bin/${_mproc_mingw}-gcc-ar-posix CACHE FILEPATH "")
set(CMAKE_RANLIB /usr/bin/${_mproc_mingw}-gcc-ranlib-posix CACHE FILEPATH "")

# Headers, libraries and CMake packages only from the mingw sysroot and the
# cross-built dependency prefix (CMAKE_PREFIX_PATH), never from /usr.
set(CMAKE_FIND_ROOT_PATH /usr/${_mproc_mingw} ${CMAKE_PREFIX_PATH})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# Fully static executables: no libstdc++-6.dll, libgcc_s_seh-1.dll or
# libwinpthread-1.dll to ship or to find under Wine.
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static -static-libgcc -static-libstdc++")

# Test programs (gtest_discover_tests, add_test) run through Wine.
find_program(MPROC_WINE wine)
if(MPROC_WINE)
  set(CMAKE_CROSSCOMPILING_EMULATOR "${MPROC_WINE}" CACHE FILEPATH "")
endif()
