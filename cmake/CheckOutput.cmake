# cmake [-DEMULATOR=wine] -DPROGRAM=... -DARGS="a%%b" -DEXPECT="re1%%re2" -P CheckOutput.cmake
# Runs PROGRAM with ARGS (stdout and stderr merged; through EMULATOR when set,
# as in a cross build), fails unless it exits 0 and each EXPECT regex matches
# a whole output line, in the order given (other lines may come between).
# Line ends are normalised: Windows text-mode streams print "\r\n".
string(REPLACE "%%" ";" _args "${ARGS}")
string(REPLACE "%%" ";" _expect "${EXPECT}")
execute_process(COMMAND ${EMULATOR} "${PROGRAM}" ${_args}
  OUTPUT_VARIABLE _out ERROR_VARIABLE _out
  RESULT_VARIABLE _rc TIMEOUT 100)
string(REPLACE "\r\n" "\n" _out "${_out}")
message("${_out}")
if(NOT _rc EQUAL 0)
  message(FATAL_ERROR "${PROGRAM} exited with ${_rc}, expected 0")
endif()
string(REPLACE ";" "\\;" _escaped "${_out}")
string(REPLACE "\n" ";" _lines "${_escaped}")
set(_pos 0)
list(LENGTH _lines _count)
foreach(_re IN LISTS _expect)
  set(_found FALSE)
  while(_pos LESS _count)
    list(GET _lines ${_pos} _line)
    math(EXPR _pos "${_pos} + 1")
    if(_line MATCHES "^${_re}$")
      set(_found TRUE)
      break()
    endif()
  endwhile()
  if(NOT _found)
    message(FATAL_ERROR "no output line (after the previous match) matches: ${_re}")
  endif()
endforeach()
