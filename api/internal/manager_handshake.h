// -----------------------------------------------------------------------------
// File: api/internal/manager_handshake.h
// -----------------------------------------------------------------------------
//
// Internal: the Manager's mutual challenge-response handshake (wire format in
// manager_protocol.h). Both sides prove they hold the authkey by an
// HMAC-SHA256 of a fresh nonce the other side chose; the key never crosses
// the wire. HMAC and random bytes come from the backend.

#ifndef MPROC_API_INTERNAL_MANAGER_HANDSHAKE_H_
#define MPROC_API_INTERNAL_MANAGER_HANDSHAKE_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "api/backend.h"
#include "api/internal/manager_protocol.h"

namespace mproc::internal {

// The server's side, on a new connection: sends the challenge, checks the
// client's answer, and proves itself in return. `reader` reads `channel`
// (its limit should be kMaxHandshakePayload). OK once the client is
// authenticated. Errors: `kUnauthenticated` for a wrong answer (the client
// was told), `kInvalidArgument` for a malformed Hello, the backend's error
// (random bytes, HMAC), the channel's otherwise.
[[nodiscard]] absl::Status AcceptHandshake(Backend& backend,
                                           absl::string_view authkey,
                                           Channel& channel,
                                           FrameReader& reader);

// The client's side, on a channel just connected to `address`. OK once both
// sides have proven they hold `authkey`. Errors: the server's refusal as it
// sent it (`kUnauthenticated`; `kResourceExhausted` when it has too many
// connections); `kUnauthenticated` when the server cannot prove it holds the
// key; `kUnavailable` when it hangs up before the handshake is done;
// `kInvalidArgument` for a malformed frame.
[[nodiscard]] absl::Status OfferHandshake(Backend& backend,
                                          absl::string_view authkey,
                                          absl::string_view address,
                                          Channel& channel,
                                          FrameReader& reader);

// Sends one reply frame holding `status` (no body). For refusals.
void SendRefusal(Channel& channel, const absl::Status& status);

}  // namespace mproc::internal

#endif  // MPROC_API_INTERNAL_MANAGER_HANDSHAKE_H_
