#include <atomic>

#include "facemix/errors.h"
#include "facemix/progress.h"

namespace facemix {
namespace {
// Lock-free atomic so that setting it from a signal handler is safe.
std::atomic<bool> g_interrupt{false};
static_assert(std::atomic<bool>::is_always_lock_free);
}  // namespace

void request_interrupt() noexcept { g_interrupt.store(true); }
bool interrupt_requested() noexcept { return g_interrupt.load(); }
void check_interrupt() {
  if (g_interrupt.load()) throw Interrupted();
}

}  // namespace facemix
