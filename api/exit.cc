#include "api/exit.h"

#include <cstdlib>

#include "api/internal/process_state.h"
#include "gsl/assert"

namespace mproc {

void Exit(int code) {
  Expects(0 <= code && code <= 255);
  if (internal::CurrentState().parent().has_value()) throw ProcessExit{code};
  std::exit(code);
}

}  // namespace mproc
