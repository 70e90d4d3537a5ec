// -----------------------------------------------------------------------------
// File: tests/fuzz/harnesses.h
// -----------------------------------------------------------------------------
//
// The fuzz harnesses: each runs one input through a decoder of mproc and
// checks what must hold for every input (no crash, no leak, no undefined
// behaviour: the sanitizers' job; plus the invariants below: the harness's).
// Each returns OK, or an error naming the invariant that broke.
//
// The same functions run in two places:
//   - tests/fuzz/fuzz_entry.cc: one libFuzzer binary per harness (preset
//     `fuzz`, clang), which aborts on an error;
//   - tests/fuzz/corpus_replay_test.cc: a unit test (every build) replaying
//     the seed corpus and every input a fuzzer ever crashed on
//     (tests/fuzz/regressions/<harness>/).
// Harnesses are deterministic and keep no state between inputs.

#ifndef MPROC_TESTS_FUZZ_HARNESSES_H_
#define MPROC_TESTS_FUZZ_HARNESSES_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace mproc::fuzz {

// DecodeLaunchRequest (api/backend.h) on arbitrary bytes; for a request that
// decodes (with a registered target), EncodeLaunchRequest gives bytes that
// decode to the same request and re-encode to themselves.
[[nodiscard]] absl::Status FuzzLaunchRequest(absl::string_view data);

// The argument codecs (api/codec.h, api/target.h). The first byte picks a
// type (integers of each width, double, bool, string, vectors, ListProxy, a
// registered target's argument list); the rest is decoded as one value of
// it. For a value v that decodes: decode(encode(v)) == v (doubles bit for
// bit) and encode(decode(encode(v))) == encode(v).
[[nodiscard]] absl::Status FuzzCodecs(absl::string_view data);

// FrameReader (api/internal/manager_protocol.h) over a channel that serves
// the input in chunks the input chooses: byte 0 bit 0 ends the stream with
// an error instead of a clean end, bytes 1-4 are chunk sizes (0: any), the
// rest is the stream. Every frame returned is the next frame of the stream;
// a clean end comes only between frames; an error is the documented one.
[[nodiscard]] absl::Status FuzzFrameReader(absl::string_view data);

// The Manager server (internal::ServeManager) over scripted in-memory
// clients, served one after another (see manager_server_harness.cc for the
// input format). Each client may authenticate with the real key first; the
// server must answer only with well-formed replies, never answer a client
// without the key with OK, and return OK or kCancelled.
[[nodiscard]] absl::Status FuzzManagerServer(absl::string_view data);

// The Manager's request handling alone (internal::ManagerStore::Apply):
// requests, each a 2-byte little-endian length and its payload (varint Op
// and fields), applied in order to one store. Apply must return only the
// codes it documents and never build a reply over the store's limit.
[[nodiscard]] absl::Status FuzzManagerStore(absl::string_view data);

// A harness and the name of its corpus folder (tests/fuzz/corpus/<name>).
struct Harness {
  const char* name;
  absl::Status (*run)(absl::string_view data);
};

// Every harness, in a fixed order.
absl::Span<const Harness> AllHarnesses();

}  // namespace mproc::fuzz

#endif  // MPROC_TESTS_FUZZ_HARNESSES_H_
