// Registered targets on Pipe and Connection (message_passing.h).
#include "workloads/message_passing.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "api/context.h"

namespace mproc::workloads {

absl::Status EchoMessages(Connection connection) {
  for (;;) {
    absl::StatusOr<std::string> message = connection.RecvBytes();
    if (absl::IsUnavailable(message.status())) return absl::OkStatus();
    if (!message.ok()) return message.status();
    if (absl::Status s = connection.SendBytes(*message); !s.ok()) return s;
  }
}
MPROC_REGISTER_TARGET(EchoMessages);

absl::Status SendCount(Connection connection, int64_t count) {
  for (int64_t i = 0; i < count; ++i) {
    if (absl::Status s = connection.Send(i); !s.ok()) return s;
  }
  return absl::OkStatus();
}
MPROC_REGISTER_TARGET(SendCount);

void ReturnAtOnce(Connection connection) { (void)connection; }
MPROC_REGISTER_TARGET(ReturnAtOnce);

absl::Status ReturnOnMessage(Connection connection) {
  return connection.RecvBytes().status();
}
MPROC_REGISTER_TARGET(ReturnOnMessage);

absl::Status BlockInRecv(Connection connection) {
  absl::StatusOr<std::string> message = connection.RecvBytes();
  if (!message.ok()) return message.status();
  return absl::FailedPreconditionError(
      "BlockInRecv received a message; the parent should never send one");
}
MPROC_REGISTER_TARGET(BlockInRecv);

absl::Status EchoInGrandchild(Connection connection) {
  absl::StatusOr<Context> ctx = GetContext();
  if (!ctx.ok()) return ctx.status();
  Process child = ctx->NewProcess(Target(&EchoMessages, connection));
  if (absl::Status s = child.Start(); !s.ok()) return s;
  connection.Close();  // the grandchild holds it now
  if (absl::Status s = child.Join(); !s.ok()) return s;
  if (child.exitcode() != 0) {
    return absl::InternalError(
        absl::StrCat("the grandchild ended with ", *child.exitcode()));
  }
  return absl::OkStatus();
}
MPROC_REGISTER_TARGET(EchoInGrandchild);

absl::Status PutRange(Queue<int64_t> queue, int64_t first, int64_t count) {
  for (int64_t i = 0; i < count; ++i) {
    if (absl::Status s = queue.Put(first + i); !s.ok()) return s;
  }
  return absl::OkStatus();
}
MPROC_REGISTER_TARGET(PutRange);

absl::Status ForwardItems(Queue<int64_t> from, Queue<int64_t> to,
                          int64_t count) {
  for (int64_t i = 0; i < count; ++i) {
    absl::StatusOr<int64_t> item = from.Get();
    if (!item.ok()) return item.status();
    if (absl::Status s = to.Put(*item); !s.ok()) return s;
  }
  return absl::OkStatus();
}
MPROC_REGISTER_TARGET(ForwardItems);

absl::Status BlockInGet(Queue<int64_t> queue, Event started) {
  if (absl::Status s = started.Set(); !s.ok()) return s;
  absl::StatusOr<int64_t> item = queue.Get();
  if (!item.ok()) return item.status();
  return absl::FailedPreconditionError(
      "BlockInGet took an item; nobody should put one");
}
MPROC_REGISTER_TARGET(BlockInGet);

absl::Status DrainRange(Queue<int64_t> queue, int64_t count) {
  for (int64_t i = 0; i < count; ++i) {
    absl::StatusOr<int64_t> item = queue.Get(absl::Seconds(30));
    if (!item.ok()) return item.status();
    if (*item != i) {
      return absl::InternalError(
          absl::StrCat("item ", i, " of the range was ", *item));
    }
  }
  if (!queue.Empty()) {
    return absl::InternalError(absl::StrCat("the queue holds ", queue.QSize(),
                                            " items after the range"));
  }
  return absl::OkStatus();
}
MPROC_REGISTER_TARGET(DrainRange);

std::string PatternString(int64_t size, int64_t index) {
  std::string item(static_cast<size_t>(size), '\0');
  for (int64_t i = 0; i < size; ++i) {
    item[static_cast<size_t>(i)] = static_cast<char>('a' + (index + i) % 26);
  }
  return item;
}

absl::Status PutStrings(Queue<std::string> queue, std::vector<int64_t> sizes) {
  for (size_t i = 0; i < sizes.size(); ++i) {
    if (absl::Status s =
            queue.Put(PatternString(sizes[i], i), absl::Seconds(30));
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}
MPROC_REGISTER_TARGET(PutStrings);

absl::Status HoldQueueLockInGet(Queue<int64_t> queue, Event held, Event never) {
  absl::StatusOr<std::string> item =
      internal::QueueTestPeer::CoreOf(queue).GetForTest([&] {
        (void)held.Set();
        (void)never.Wait();
      });
  if (!item.ok()) return item.status();
  return absl::FailedPreconditionError(
      "HoldQueueLockInGet returned; it should have been killed inside");
}
MPROC_REGISTER_TARGET(HoldQueueLockInGet);

absl::Status HoldQueueLockInPut(Queue<int64_t> queue, int64_t item, Event held,
                                Event never) {
  absl::Status put =
      internal::QueueTestPeer::CoreOf(queue).PutForTest(EncodeValue(item), [&] {
        (void)held.Set();
        (void)never.Wait();
      });
  if (!put.ok()) return put;
  return absl::FailedPreconditionError(
      "HoldQueueLockInPut returned; it should have been killed inside");
}
MPROC_REGISTER_TARGET(HoldQueueLockInPut);

absl::Status DoubleItems(SimpleQueue<int64_t> from, SimpleQueue<int64_t> to,
                         int64_t count) {
  for (int64_t i = 0; i < count; ++i) {
    absl::StatusOr<int64_t> item = from.Get(absl::Seconds(30));
    if (!item.ok()) return item.status();
    if (absl::Status s = to.Put(*item * 2); !s.ok()) return s;
  }
  return absl::OkStatus();
}
MPROC_REGISTER_TARGET(DoubleItems);

absl::Status TakeAndMarkDone(JoinableQueue<int64_t> queue, Queue<int64_t> taken,
                             int64_t count) {
  for (int64_t i = 0; i < count; ++i) {
    absl::StatusOr<int64_t> item = queue.Get(absl::Seconds(30));
    if (!item.ok()) return item.status();
    if (absl::Status s = taken.Put(*item); !s.ok()) return s;
    if (absl::Status s = queue.TaskDone(); !s.ok()) return s;
  }
  return absl::OkStatus();
}
MPROC_REGISTER_TARGET(TakeAndMarkDone);

}  // namespace mproc::workloads
