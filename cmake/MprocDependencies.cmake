# Finds mproc's dependencies (Debian packages) and says what to install when one is missing.
set(_mproc_install_hint "run scripts/install-deps (Debian 12: apt-get install")

find_package(Threads REQUIRED)

find_package(absl CONFIG QUIET)
if(NOT absl_FOUND)
  message(FATAL_ERROR "Abseil not found: ${_mproc_install_hint} libabsl-dev)")
endif()

find_package(Microsoft.GSL CONFIG QUIET)
if(NOT Microsoft.GSL_FOUND AND CMAKE_CROSSCOMPILING)
  # A cross build (the mingw preset) gets GSL's headers alone in its
  # dependency prefix (scripts/install-windows-deps): Debian's GSL package
  # file points at /usr/include, which a cross build must not search.
  find_path(MPROC_GSL_INCLUDE_DIR gsl/span)
  if(MPROC_GSL_INCLUDE_DIR)
    add_library(Microsoft.GSL::GSL INTERFACE IMPORTED)
    target_include_directories(Microsoft.GSL::GSL INTERFACE "${MPROC_GSL_INCLUDE_DIR}")
    set(Microsoft.GSL_FOUND TRUE)
  endif()
endif()
if(NOT Microsoft.GSL_FOUND)
  message(FATAL_ERROR "Microsoft GSL not found: ${_mproc_install_hint} libmsgsl-dev)")
endif()

# HMAC-SHA256 for the Manager handshake (Backend::HmacSha256). Windows: BCrypt,
# a system library (nothing to find). Elsewhere: OpenSSL's libcrypto, whose
# headers the backends compile against and which they load on first use
# (dlopen of its soname), so a program that runs no Manager never pays for
# loading it.
if(WIN32)
  function(mproc_use_lazy_libcrypto target)
  endfunction()
else()
  find_package(OpenSSL QUIET COMPONENTS Crypto)
  if(NOT OpenSSL_FOUND)
    message(FATAL_ERROR "OpenSSL's libcrypto not found: ${_mproc_install_hint} libssl-dev)")
  endif()
  get_filename_component(_mproc_libcrypto_real "${OPENSSL_CRYPTO_LIBRARY}" REALPATH)
  get_filename_component(MPROC_LIBCRYPTO_SONAME "${_mproc_libcrypto_real}" NAME)

  # mproc_use_lazy_libcrypto(<target>): OpenSSL headers and the soname to load.
  function(mproc_use_lazy_libcrypto target)
    target_include_directories(${target} PRIVATE ${OPENSSL_INCLUDE_DIR})
    target_compile_definitions(${target} PRIVATE
      MPROC_LIBCRYPTO_SONAME="${MPROC_LIBCRYPTO_SONAME}")
  endfunction()
endif()

if(MPROC_BUILD_TESTS)
  find_package(GTest CONFIG QUIET)
  if(NOT GTest_FOUND)
    message(FATAL_ERROR
      "GoogleTest not found: ${_mproc_install_hint} libgtest-dev libgmock-dev), "
      "or configure with -DMPROC_BUILD_TESTS=OFF")
  endif()
endif()

if(MPROC_BUILD_BENCH)
  find_package(benchmark CONFIG QUIET)
  if(NOT benchmark_FOUND)
    message(FATAL_ERROR
      "Google Benchmark not found: ${_mproc_install_hint} libbenchmark-dev), "
      "or configure with -DMPROC_BUILD_BENCH=OFF")
  endif()
endif()
