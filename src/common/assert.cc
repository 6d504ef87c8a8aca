#include "common/assert.h"

#include <cstdio>
#include <cstdlib>

namespace tpw {

void AssertFail(const char* expr, const char* file, int line, const char* msg) {
  std::fprintf(stderr, "tpwallet: assertion failed: %s at %s:%d%s%s\n", expr, file, line,
               msg ? ": " : "", msg ? msg : "");
  std::fflush(stderr);
  std::abort();
}

}  // namespace tpw
