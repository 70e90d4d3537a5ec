# Finds mproc's dependencies (Debian packages) and says what to install when one is missing.
set(_mproc_install_hint "run scripts/install-deps (Debian 12: apt-get install")

find_package(Threads REQUIRED)

find_package(absl CONFIG QUIET)
if(NOT absl_FOUND)
  message(FATAL_ERROR "Abseil not found: ${_mproc_install_hint} libabsl-dev)")
endif()

find_package(Microsoft.GSL CONFIG QUIET)
if(NOT Microsoft.GSL_FOUND)
  message(FATAL_ERROR "Microsoft GSL not found: ${_mproc_install_hint} libmsgsl-dev)")
endif()

# HMAC-SHA256 for the Manager handshake (Backend::HmacSha256): libcrypto.
find_package(OpenSSL QUIET COMPONENTS Crypto)
if(NOT OpenSSL_FOUND)
  message(FATAL_ERROR "OpenSSL's libcrypto not found: ${_mproc_install_hint} libssl-dev)")
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
