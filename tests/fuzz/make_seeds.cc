// Writes the seed corpus of each fuzz harness: valid encodings made with
// mproc's own encoders, plus hand-picked edge cases. The seeds are committed
// under tests/fuzz/corpus/; regenerate them after a wire-format change with
//
//   build/tests/fuzz/fuzz_make_seeds tests/fuzz/corpus
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <string>
#include <vector>

#include "api/backend.h"
#include "api/codec.h"
#include "api/internal/manager_client.h"
#include "api/internal/manager_protocol.h"
#include "api/wire.h"

namespace mproc::fuzz {
namespace {

using internal::AppendFrame;
using internal::Op;

const std::string kAuthkey = "mproc-fuzz-authkey-0123456789abc";

class SeedWriter {
 public:
  explicit SeedWriter(std::filesystem::path root) : root_(std::move(root)) {}

  void Write(const std::string& harness, const std::string& name,
             const std::string& bytes) {
    const std::filesystem::path folder = root_ / harness;
    std::filesystem::create_directories(folder);
    std::ofstream out(folder / name, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    ok_ = ok_ && out.good();
  }
  bool ok() const { return ok_; }

 private:
  std::filesystem::path root_;
  bool ok_ = true;
};

std::string ProxyBytes(const std::string& backend, uint64_t id) {
  ByteWriter out;
  if (backend.empty()) {
    internal::EncodeEndpoint(nullptr, out);
  } else {
    internal::ManagerEndpoint endpoint;
    endpoint.backend = backend;
    endpoint.address = "/tmp/mproc-fuzz.sock";
    endpoint.authkey = kAuthkey;
    internal::EncodeEndpoint(&endpoint, out);
  }
  out.PutVarint(id);
  return out.Release();
}

// ConsumeArguments(int64, string, vector<double>, bool, uint8, ListProxy).
std::string TargetArgs(int64_t number, const std::string& text,
                       const std::vector<double>& values, bool flag,
                       uint8_t small, const std::string& backend) {
  return EncodeValue(number) + EncodeValue(text) + EncodeValue(values) +
         EncodeValue(flag) + EncodeValue(small) + ProxyBytes(backend, 3);
}

void LaunchRequestSeeds(SeedWriter& seeds) {
  auto write = [&](const std::string& name, LaunchRequest request) {
    seeds.Write("launch_request", name, *EncodeLaunchRequest(request));
  };
  LaunchRequest plain;
  plain.child = {.name = "Process-1",
                 .identity = {1},
                 .parent_pid = 4242,
                 .parent_name = "MainProcess"};
  plain.start_method = "spawn";
  plain.target = TargetCall::FromRegistered(
      "mproc.fuzz.ConsumeArguments",
      TargetArgs(7, "seven", {0.5, -1.0}, true, 200, "thread"));
  write("plain", plain);
  LaunchRequest daemon = plain;
  daemon.child = {.name = "worker \xc3\xa9",
                  .identity = {1, 2, 3},
                  .daemon = true,
                  .kill_on_parent_death = true,
                  .parent_pid = -1,
                  .parent_name = "Process-1:2"};
  daemon.target = TargetCall::FromRegistered("RunUntilTerminated", "");
  write("daemon", daemon);
  LaunchRequest extremes = plain;
  extremes.child.identity = {std::numeric_limits<int>::min(),
                             std::numeric_limits<int>::max(), 0};
  extremes.child.parent_pid = std::numeric_limits<int64_t>::max();
  write("extremes", extremes);
  std::string valid = *EncodeLaunchRequest(plain);
  seeds.Write("launch_request", "truncated", valid.substr(0, valid.size() / 2));
  seeds.Write("launch_request", "trailing", valid + "x");
  seeds.Write("launch_request", "version2", "\x02" + valid.substr(1));
  seeds.Write("launch_request", "empty", "");
}

void CodecSeeds(SeedWriter& seeds) {
  auto write = [&](const std::string& name, uint8_t type,
                   const std::string& bytes) {
    seeds.Write("codecs", name,
                std::string(1, static_cast<char>(type)) + bytes);
  };
  write("bool", 0, EncodeValue(true));
  write("int8_min", 1, EncodeValue(std::numeric_limits<int8_t>::min()));
  write("uint8_max", 2, EncodeValue(std::numeric_limits<uint8_t>::max()));
  write("int16_out_of_range", 3, EncodeValue(int64_t{1} << 20));
  write("uint16", 4, EncodeValue(uint16_t{65535}));
  write("int32", 5, EncodeValue(int32_t{-123456}));
  write("uint32", 6, EncodeValue(uint32_t{4000000000u}));
  write("int64_min", 7, EncodeValue(std::numeric_limits<int64_t>::min()));
  write("uint64_max", 8, EncodeValue(std::numeric_limits<uint64_t>::max()));
  write("double_nan", 9, EncodeValue(std::numeric_limits<double>::quiet_NaN()));
  write("double_neg_zero", 9, EncodeValue(-0.0));
  write("string", 10, EncodeValue(std::string("with\0nul", 8)));
  write("vector_int64", 11, EncodeValue(std::vector<int64_t>{1, -2, 300}));
  write("vector_uint8", 12, EncodeValue(std::vector<uint8_t>{0, 255}));
  write("vector_double", 13, EncodeValue(std::vector<double>{0.25, 1e300}));
  write("vector_string", 14,
        EncodeValue(std::vector<std::string>{"a", "", "ccc"}));
  write("vector_vector", 15,
        EncodeValue(std::vector<std::vector<int32_t>>{{1, 2}, {}, {3}}));
  write("vector_bool", 16, EncodeValue(std::vector<bool>{true, false}));
  write("proxy", 17, ProxyBytes("thread", 1));
  write("proxy_unbound", 17, ProxyBytes("", 0));
  write("proxy_unknown_backend", 17, ProxyBytes("nosuch", 1));
  write("vector_proxy", 18,
        EncodeValue(uint64_t{2}) + ProxyBytes("thread", 1) + ProxyBytes("", 0));
  write("target_args", 19, TargetArgs(-5, "text", {1.5}, false, 9, "thread"));
  write("varint_too_long", 8, std::string(10, '\xff') + "\x01");
  write("huge_count", 11, "\xff\xff\xff\xff\x0f");
}

std::string Framed(const std::vector<std::string>& payloads) {
  std::string out;
  for (const std::string& p : payloads) AppendFrame(p, out);
  return out;
}

std::string Request(Op op, const std::string& fields = "") {
  ByteWriter out;
  out.PutVarint(static_cast<uint64_t>(op));
  return out.Release() + fields;
}

std::string Fields(std::initializer_list<uint64_t> varints,
                   const std::vector<std::string>& items = {}) {
  ByteWriter out;
  for (uint64_t v : varints) out.PutVarint(v);
  for (const std::string& item : items) out.PutBytes(item);
  return out.Release();
}

void FrameReaderSeeds(SeedWriter& seeds) {
  const std::string frames =
      Framed({"", "a", std::string(300, 'b'), Request(Op::kSync)});
  seeds.Write("frame_reader", "whole_reads", std::string(5, '\0') + frames);
  seeds.Write("frame_reader", "small_chunks",
              std::string("\0\x01\x02\x03\x07", 5) + frames);
  seeds.Write("frame_reader", "cut_mid_frame",
              std::string("\0\x03\x00\x00\x00", 5) +
                  frames.substr(0, frames.size() - 2));
  seeds.Write("frame_reader", "read_error",
              std::string("\x01\x05\x00\x00\x00", 5) + frames);
  seeds.Write("frame_reader", "oversized",
              std::string(5, '\0') + std::string("\xff\xff\xff\x7f", 4));
  seeds.Write("frame_reader", "empty_stream", std::string(5, '\0'));
}

// One client record of the manager_server harness.
std::string Client(bool authenticate, const std::string& bytes,
                   uint8_t chunk = 0) {
  std::string record(1, static_cast<char>((authenticate ? 1 : 0) | chunk << 2));
  record.push_back(static_cast<char>(bytes.size() & 0xff));
  record.push_back(static_cast<char>(bytes.size() >> 8));
  return record + bytes;
}

void ManagerServerSeeds(SeedWriter& seeds) {
  const std::string session = Framed({
      Request(Op::kCreateList),
      Request(Op::kAppend, Fields({1}, {"first"})),
      Request(Op::kExtend, Fields({1, 2}, {"second", "third"})),
      Request(Op::kSize, Fields({1})),
      Request(Op::kGet, Fields({1, 3})),  // zig-zag 3: index -2
      Request(Op::kSnapshot, Fields({1})),
      Request(Op::kSync),
  });
  seeds.Write("manager_server", "session", Client(true, session));
  seeds.Write("manager_server", "session_then_shutdown",
              Client(true, session + Framed({Request(Op::kShutdown)})) +
                  Client(true, Framed({Request(Op::kSize, Fields({1}))})));
  seeds.Write(
      "manager_server", "two_clients_small_reads",
      Client(true, session, 3) +
          Client(true, Framed({Request(Op::kSnapshot, Fields({1}))}), 1));
  seeds.Write("manager_server", "pipelined_error",
              Client(true, Framed({Request(Op::kAppend, Fields({99}, {"x"})),
                                   Request(Op::kSync)})));
  seeds.Write(
      "manager_server", "wrong_key",
      Client(false, Framed({Request(Op::kHello, Fields({}, {"bad"}))})));
  seeds.Write("manager_server", "no_hello",
              Client(false, Framed({Request(Op::kCreateList)})));
  seeds.Write("manager_server", "hello_twice_unknown_op",
              Client(true, Framed({Request(Op::kHello, Fields({}, {kAuthkey})),
                                   Fields({77})})));
  seeds.Write("manager_server", "oversized_frame",
              Client(false, std::string("\xff\xff\xff\x03", 4)));
}

// A session on every shared type (ids 1..5: dict, queue of maxsize 1, lock,
// event, value), timeouts 0 or none (the harness's server never waits).
std::vector<std::string> TypesSession() {
  const uint64_t kNone = 1;  // zig-zag of kNoTimeout (-1)
  return {
      Request(Op::kCreateDict),
      Request(Op::kCreateQueue, Fields({1})),
      Request(Op::kCreateLock),
      Request(Op::kCreateEvent),
      Request(Op::kCreateValue, Fields({}, {"v0"})),
      Request(Op::kDictSet, Fields({1}, {"k", "v"})),
      Request(Op::kDictSetSync, Fields({1}, {"j", "w"})),
      Request(Op::kDictGet, Fields({1}, {"k"})),
      Request(Op::kDictContains, Fields({1}, {"x"})),
      Request(Op::kDictItems, Fields({1})),
      Request(Op::kDictKeys, Fields({1})),
      Request(Op::kDictPop, Fields({1}, {"k"})),
      Request(Op::kDictErase, Fields({1}, {"k"})),
      Request(Op::kDictSize, Fields({1})),
      Request(Op::kDictClear, Fields({1})),
      Request(Op::kQueuePut, Fields({2, 0}, {"a"})),
      Request(Op::kQueuePut, Fields({2, kNone}, {"b"})),  // full
      Request(Op::kQueueSize, Fields({2})),
      Request(Op::kQueueGet, Fields({2, kNone})),
      Request(Op::kQueueGet, Fields({2, 0})),  // empty
      Request(Op::kLockAcquire, Fields({3, kNone})),
      Request(Op::kEventSet, Fields({4})),
      Request(Op::kEventWait, Fields({4, kNone})),
      Request(Op::kEventClear, Fields({4})),
      Request(Op::kEventIsSet, Fields({4})),
      Request(Op::kValueSet, Fields({5}, {"v1"})),
      Request(Op::kValueSetSync, Fields({5}, {"v2"})),
      Request(Op::kValueGet, Fields({5})),
  };
}

void ManagerTypesSeeds(SeedWriter& seeds) {
  const uint64_t kNone = 1;
  // The first client takes the lock and ends holding it: the second is told.
  seeds.Write(
      "manager_server", "types_session_lock_abandoned",
      Client(true, Framed(TypesSession())) +
          Client(true, Framed({Request(Op::kLockAcquire, Fields({3, kNone})),
                               Request(Op::kLockRelease, Fields({3})),
                               Request(Op::kLockRelease, Fields({3}))})));
  // manager_store: each request a 2-byte length and its payload.
  std::string store;
  for (const std::string& request : TypesSession()) {
    store.push_back(static_cast<char>(request.size() & 0xff));
    store.push_back(static_cast<char>(request.size() >> 8));
    store += request;
  }
  seeds.Write("manager_store", "types_session", store);
}

}  // namespace
}  // namespace mproc::fuzz

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: " << argv[0] << " <corpus folder>\n";
    return 2;
  }
  mproc::fuzz::SeedWriter seeds(argv[1]);
  mproc::fuzz::LaunchRequestSeeds(seeds);
  mproc::fuzz::CodecSeeds(seeds);
  mproc::fuzz::FrameReaderSeeds(seeds);
  mproc::fuzz::ManagerServerSeeds(seeds);
  mproc::fuzz::ManagerTypesSeeds(seeds);
  if (!seeds.ok()) {
    std::cerr << "fuzz_make_seeds: could not write every seed under " << argv[1]
              << "\n";
    return 1;
  }
  return 0;
}
