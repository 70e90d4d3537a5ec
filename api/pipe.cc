// Context::Pipe (api/pipe.h).
#include "api/pipe.h"

#include <array>
#include <memory>
#include <utility>

namespace mproc {

absl::StatusOr<std::pair<Connection, Connection>> Context::Pipe(
    bool duplex) const {
  absl::StatusOr<std::array<std::shared_ptr<ChannelEnd>, 2>> ends =
      backend_->ChannelPair();
  if (!ends.ok()) return ends.status();
  auto first = std::make_shared<internal::ConnectionCore>(
      backend_, std::move((*ends)[0]), /*readable=*/true,
      /*writable=*/duplex);
  auto second = std::make_shared<internal::ConnectionCore>(
      backend_, std::move((*ends)[1]), /*readable=*/duplex,
      /*writable=*/true);
  return std::pair<Connection, Connection>(Connection(std::move(first)),
                                           Connection(std::move(second)));
}

}  // namespace mproc
