// The conformance suite on the installed thread backend, from outside the
// repository: what a porter writes for their own backend.
#include "backends/thread/thread_resources.h"
#include "tests/conformance/conformance.h"

namespace {

mproc::conformance::ResourceSnapshot ProbeInstalledThread() {
  return {.children = mproc::thread::UnreapedChildCount(),
          .descriptors = mproc::thread::OpenTransportCount() +
                         mproc::thread::OpenSharedObjectCount() +
                         mproc::thread::OpenChannelEndCount()};
}

}  // namespace

MPROC_INSTANTIATE_CONFORMANCE_SUITE(InstalledThread,
                                    (mproc::conformance::BackendUnderTest{
                                        .label = "InstalledThread",
                                        .context = "thread",
                                        .probe = &ProbeInstalledThread}));
