# Each example runs as a ctest per context in MPROC_EXAMPLE_CONTEXTS (label
# `example`) and must print the chapter's lines.
include_guard(GLOBAL)

set(_repr_initial "<Process name='Process-1' parent=[0-9]+ initial>")
set(_repr_started "<Process name='Process-1' pid=[0-9]+ parent=[0-9]+ started>")
set(_repr_stopped "<Process name='Process-1' pid=[0-9]+ parent=[0-9]+ stopped exitcode=")

foreach(_context IN LISTS MPROC_EXAMPLE_CONTEXTS)
  string(REPLACE ":" ";" _parts "${_context}")
  list(GET _parts 0 _backend)
  set(_args "--backend=${_backend}")
  list(LENGTH _parts _n)
  if(_n GREATER 1)
    list(GET _parts 1 _method)
    list(APPEND _args "--start_method=${_method}")
  endif()
  string(REPLACE ":" "_" _suffix "${_context}")

  mproc_add_example_test(NAME example.naming_processes.${_suffix}
    EXAMPLE naming_processes ARGS ${_args}
    EXPECT "Process 1 output list length: 1000"
           "Process 2 output list length: 1000"
           "Total execution time: [0-9]+\\.[0-9][0-9] seconds")
  mproc_add_example_test(NAME example.naming_processes_names.${_suffix}
    EXAMPLE naming_processes ARGS ${_args}
    EXPECT "name: do_something process 1")
  mproc_add_example_test(NAME example.spawning_processes.${_suffix}
    EXAMPLE spawning_processes ARGS ${_args}
    EXPECT "calling do_something from process no: 0"
           "Process 0 finished with 0 results\\."
           "calling do_something from process no: 1"
           "Process 1 finished with 1000 results\\."
           "calling do_something from process no: 2"
           "Process 2 finished with 2000 results\\."
           "calling do_something from process no: 3"
           "Process 3 finished with 3000 results\\."
           "calling do_something from process no: 4"
           "Process 4 finished with 4000 results\\."
           "calling do_something from process no: 5"
           "Process 5 finished with 5000 results\\.")
  # The child's lines race the parent's "Process running" line on real
  # processes (a forked child starts at once): the parent's lines and the
  # child's are each checked in order, the child's before "Process terminated"
  # (the parent joins first).
  mproc_add_example_test(NAME example.killing_processes.${_suffix}
    EXAMPLE killing_processes ARGS ${_args}
    EXPECT "Process before execution: ${_repr_initial} False"
           "Process running: ${_repr_started} True"
           "Process terminated: ${_repr_stopped}0> False"
           "Process joined: ${_repr_stopped}0> False"
           "Process exit code: 0")
  mproc_add_example_test(NAME example.killing_processes_child.${_suffix}
    EXAMPLE killing_processes ARGS ${_args}
    EXPECT "Process before execution: ${_repr_initial} False"
           "Starting function"
           "Finished function with 10 results\\."
           "Process terminated: ${_repr_stopped}0> False")
  mproc_add_example_test(NAME example.killing_processes_long.${_suffix}
    EXAMPLE killing_processes ARGS ${_args} --work=long
    EXPECT "Process before execution: ${_repr_initial} False"
           "Process running: ${_repr_started} True"
           "Process joined: ${_repr_stopped}-SIGTERM> False"
           "Process exit code: -15")
  mproc_add_example_test(NAME example.run_background_processes.${_suffix}
    EXAMPLE run_background_processes ARGS ${_args}
    EXPECT "Starting background_process"
           "Starting NO_background_process"
           "Process background_process:"
           "FAILED_PRECONDITION: daemonic processes are not allowed to have children.*"
           "Exiting NO_background_process")
  mproc_add_example_test(NAME example.shared_counter.${_suffix}
    EXAMPLE shared_counter ARGS ${_args}
    EXPECT "4 children x 10000 increments"
           "Counter: 40000"
           "Array sum: 2475\\.0")
  # 0..1999 squared and summed: 1999 * 2000 * 3999 / 6.
  mproc_add_example_test(NAME example.pipeline.${_suffix}
    EXAMPLE pipeline ARGS ${_args}
    EXPECT "2 producers x 1000 items, 3 workers"
           "Results received: 3"
           "Items processed: 2000"
           "Sum of squares: 2664667000")
  # 0..999 squared and summed: 999 * 1000 * 1999 / 6.
  mproc_add_example_test(NAME example.pool_map.${_suffix}
    EXAMPLE pool_map ARGS ${_args}
    EXPECT "Pool of 2 workers, squares of 0\\.\\.999"
           "Sum of squares: 332833500"
           "Crashed task: ABORTED: pool worker PoolWorker-[0-9]+ \\(pid [0-9]+\\) died with exitcode 3 while holding this task.*"
           "Sum of squares after the crash: 332833500"
           "Replacement worker: PoolWorker-3"
           "Workers running: 2")
endforeach()
