// Result<T, E>: a value or a domain error code. Expected failures are values, never exceptions.
//
// E is a per-domain `enum class` with stable numeric values (see amount.h, ledger/results.h).
// A Result must be inspected: the class is [[nodiscard]].
#pragma once

#include <utility>
#include <variant>

#include "common/assert.h"

namespace tpw {

template <typename E>
struct Err {
  E code;
};
// `Err{code}` deduces Err<E>. C++20 deduces aggregates without this guide, but clang before 17
// does not implement that rule (the fuzz build uses clang 14).
template <typename E>
Err(E) -> Err<E>;

template <typename T, typename E>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit
  Result(Err<E> error) : state_(std::in_place_index<1>, error.code) {}   // NOLINT: implicit

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  const T& value() const& {
    TPW_ASSERT_MSG(ok(), "Result::value() on an error");
    return std::get<0>(state_);
  }
  T& value() & {
    TPW_ASSERT_MSG(ok(), "Result::value() on an error");
    return std::get<0>(state_);
  }
  T&& value() && {
    TPW_ASSERT_MSG(ok(), "Result::value() on an error");
    return std::get<0>(std::move(state_));
  }
  const T& operator*() const& { return value(); }
  const T* operator->() const { return &value(); }

  E error() const {
    TPW_ASSERT_MSG(!ok(), "Result::error() on a value");
    return std::get<1>(state_);
  }

 private:
  std::variant<T, E> state_;
};

// Result<void, E>: success or an error code.
template <typename E>
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Err<E> error) : failed_(true), code_(error.code) {}  // NOLINT: implicit
  static Status Ok() { return Status(); }

  bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  E error() const {
    TPW_ASSERT_MSG(failed_, "Status::error() on success");
    return code_;
  }

 private:
  bool failed_ = false;
  E code_{};
};

}  // namespace tpw
