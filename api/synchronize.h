// -----------------------------------------------------------------------------
// File: api/synchronize.h
// -----------------------------------------------------------------------------
//
// Every shared-state primitive, as CPython's multiprocessing.synchronize and
// sharedctypes: Lock, RLock (api/lock.h), Semaphore, BoundedSemaphore
// (api/semaphore.h), Event (api/event.h), Condition (api/condition.h),
// Barrier (api/barrier.h), Value, Array, RawValue, RawArray
// (api/shared_value.h). Each is made through a Context and reaches children
// as a target argument (docs/design.md, "Shared state").

#ifndef MPROC_API_SYNCHRONIZE_H_
#define MPROC_API_SYNCHRONIZE_H_

#include "api/barrier.h"       // IWYU pragma: export
#include "api/condition.h"     // IWYU pragma: export
#include "api/event.h"         // IWYU pragma: export
#include "api/lock.h"          // IWYU pragma: export
#include "api/semaphore.h"     // IWYU pragma: export
#include "api/shared_value.h"  // IWYU pragma: export

#endif  // MPROC_API_SYNCHRONIZE_H_
