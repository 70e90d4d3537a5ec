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

# HMAC-SHA256 for the Manager handshake (Backend::HmacSha256): OpenSSL's
# libcrypto, whose headers the backends compile against and which they load on
# first use (dlopen of its soname), so a program that runs no Manager never
# pays for loading it.
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
