// TPW_ASSERT: assertions for programmer errors, on in every build (TigerBeetle style).
// Never use it on user or network input: such input returns an error value instead.
#pragma once

namespace tpw {
[[noreturn]] void AssertFail(const char* expr, const char* file, int line, const char* msg);
}  // namespace tpw

#define TPW_ASSERT(cond)                                                   \
  do {                                                                     \
    if (__builtin_expect(!(cond), 0)) {                                    \
      ::tpw::AssertFail(#cond, __FILE__, __LINE__, nullptr);               \
    }                                                                      \
  } while (0)

#define TPW_ASSERT_MSG(cond, msg)                                          \
  do {                                                                     \
    if (__builtin_expect(!(cond), 0)) {                                    \
      ::tpw::AssertFail(#cond, __FILE__, __LINE__, (msg));                 \
    }                                                                      \
  } while (0)

#define TPW_UNREACHABLE() ::tpw::AssertFail("unreachable", __FILE__, __LINE__, nullptr)
