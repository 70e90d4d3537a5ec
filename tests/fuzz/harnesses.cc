#include "tests/fuzz/harnesses.h"

namespace mproc::fuzz {

absl::Span<const Harness> AllHarnesses() {
  static constexpr Harness kHarnesses[] = {
      {"launch_request", &FuzzLaunchRequest},
      {"codecs", &FuzzCodecs},
      {"frame_reader", &FuzzFrameReader},
      {"manager_server", &FuzzManagerServer},
      {"manager_store", &FuzzManagerStore},
  };
  return kHarnesses;
}

}  // namespace mproc::fuzz
