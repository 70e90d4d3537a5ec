#include "api/internal/manager_handshake.h"

#include <array>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "api/wire.h"

namespace mproc::internal {
namespace {

// Domain separation: an answer a server computes can never serve as a
// client's answer (no reflection).
constexpr absl::string_view kClientTag = "mproc-client";
constexpr absl::string_view kServerTag = "mproc-server";

absl::StatusOr<std::string> Mac(Backend& backend, absl::string_view key,
                                absl::string_view tag,
                                absl::string_view nonce) {
  absl::StatusOr<std::array<char, kHmacSha256Size>> mac =
      backend.HmacSha256(key, absl::StrCat(tag, nonce));
  if (!mac.ok()) return mac.status();
  return std::string(mac->data(), mac->size());
}

absl::StatusOr<std::string> Nonce(Backend& backend) {
  std::string nonce(kNonceSize, '\0');
  if (absl::Status s = backend.SecureRandom(gsl::span<char>(nonce)); !s.ok()) {
    return s;
  }
  return nonce;
}

absl::Status SendReply(Channel& channel, const absl::Status& status,
                       absl::string_view body) {
  std::string frame;
  AppendFrame(EncodeReply(status, body), frame);
  return channel.WriteAll(frame);
}

// The next frame, as a reply; its body on OK.
absl::StatusOr<std::string> ReadReply(FrameReader& reader,
                                      absl::string_view address) {
  absl::StatusOr<std::optional<std::string>> frame = reader.Next();
  if (frame.ok() && !frame->has_value()) {
    frame = absl::UnavailableError("connection closed");
  }
  if (!frame.ok()) {
    if (absl::IsInvalidArgument(frame.status())) return frame.status();
    return absl::Status(
        frame.status().code(),
        absl::StrCat("the Manager at ", address,
                     " closed the connection before the handshake was done (",
                     frame.status().message(),
                     "): it may be out of descriptors, or stopping; try "
                     "again, or keep it running while its proxies are in use"));
  }
  absl::string_view body;
  if (absl::Status s = DecodeReply(**frame, body); !s.ok()) return s;
  return std::string(body);
}

}  // namespace

void SendRefusal(Channel& channel, const absl::Status& status) {
  (void)SendReply(channel, status, "");
}

absl::Status AcceptHandshake(Backend& backend, absl::string_view authkey,
                             Channel& channel, FrameReader& reader) {
  absl::StatusOr<std::string> server_nonce = Nonce(backend);
  if (!server_nonce.ok()) return server_nonce.status();
  if (absl::Status s = SendReply(channel, absl::OkStatus(), *server_nonce);
      !s.ok()) {
    return s;
  }
  // While the client works out its answer: a process's first HMAC is slow
  // (the crypto library's first use in a new thread of a fresh process).
  absl::StatusOr<std::string> expected =
      Mac(backend, authkey, kClientTag, *server_nonce);
  if (!expected.ok()) return expected.status();
  absl::StatusOr<std::optional<std::string>> frame = reader.Next();
  if (!frame.ok()) return frame.status();
  if (!frame->has_value()) {
    return absl::UnavailableError("the client hung up during the handshake");
  }
  ByteReader in(**frame);
  absl::StatusOr<uint64_t> op = in.GetVarint();
  absl::StatusOr<absl::string_view> answer = in.GetBytes();
  absl::StatusOr<absl::string_view> client_nonce = in.GetBytes();
  if (!op.ok() || *op != static_cast<uint64_t>(Op::kHello) || !answer.ok() ||
      !client_nonce.ok() || client_nonce->size() != kNonceSize || !in.empty()) {
    SendRefusal(channel, absl::UnauthenticatedError(
                             "the Manager expected a Hello answering its "
                             "challenge; is this an mproc client?"));
    return absl::InvalidArgumentError(
        "authentication failed: malformed Hello or no Hello");
  }
  if (!ConstantTimeEquals(*answer, *expected)) {
    SendRefusal(channel,
                absl::UnauthenticatedError(
                    "the Manager rejected the authkey; use a proxy from this "
                    "Manager"));
    return absl::UnauthenticatedError(
        "authentication failed (wrong authkey or a replayed handshake)");
  }
  absl::StatusOr<std::string> proof =
      Mac(backend, authkey, kServerTag, *client_nonce);
  if (!proof.ok()) return proof.status();
  return SendReply(channel, absl::OkStatus(), *proof);
}

absl::Status OfferHandshake(Backend& backend, absl::string_view authkey,
                            absl::string_view address, Channel& channel,
                            FrameReader& reader) {
  absl::StatusOr<std::string> server_nonce = ReadReply(reader, address);
  if (!server_nonce.ok()) return server_nonce.status();
  if (server_nonce->size() != kNonceSize) {
    return absl::InvalidArgumentError(absl::StrCat(
        "malformed Manager challenge from ", address, ": ",
        server_nonce->size(), " bytes; is an mproc Manager listening there?"));
  }
  absl::StatusOr<std::string> answer =
      Mac(backend, authkey, kClientTag, *server_nonce);
  if (!answer.ok()) return answer.status();
  absl::StatusOr<std::string> client_nonce = Nonce(backend);
  if (!client_nonce.ok()) return client_nonce.status();
  ByteWriter hello;
  hello.PutVarint(static_cast<uint64_t>(Op::kHello));
  hello.PutBytes(*answer);
  hello.PutBytes(*client_nonce);
  std::string frame;
  AppendFrame(hello.data(), frame);
  if (absl::Status s = channel.WriteAll(frame); !s.ok()) return s;
  // While the server checks the answer.
  absl::StatusOr<std::string> expected =
      Mac(backend, authkey, kServerTag, *client_nonce);
  if (!expected.ok()) return expected.status();
  absl::StatusOr<std::string> proof = ReadReply(reader, address);
  if (!proof.ok()) return proof.status();
  if (!ConstantTimeEquals(*proof, *expected)) {
    return absl::UnauthenticatedError(absl::StrCat(
        "the server at ", address,
        " could not prove it holds the Manager's authkey; it is not this "
        "proxy's Manager"));
  }
  return absl::OkStatus();
}

}  // namespace mproc::internal
