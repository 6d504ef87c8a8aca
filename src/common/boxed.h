// Boxed<T>: an optional T kept on the heap, with std::optional's interface (the parts callers
// use). For a large member that is rarely set: the object holding it stays small, so moving it
// copies a pointer instead of the whole T. engine::Reply carries the results of every command
// kind (offline, risk, payments, ...), several KiB as optionals, while the hot requests (single
// transfers) set none of them, yet the reply is built, moved and destroyed several times per
// request across threads.
#pragma once

#include <memory>
#include <optional>
#include <utility>

#include "common/assert.h"

namespace tpw {

template <typename T>
class Boxed {
 public:
  Boxed() = default;
  Boxed(std::nullopt_t) {}  // NOLINT(google-explicit-constructor): as std::optional
  Boxed(T value) : value_(std::make_unique<T>(std::move(value))) {}  // NOLINT: as optional
  Boxed(const Boxed& other) : value_(other ? std::make_unique<T>(*other) : nullptr) {}
  Boxed(Boxed&&) noexcept = default;
  Boxed& operator=(const Boxed& other) {
    if (this != &other) value_ = other ? std::make_unique<T>(*other) : nullptr;
    return *this;
  }
  Boxed& operator=(Boxed&&) noexcept = default;
  Boxed& operator=(std::nullopt_t) {
    value_.reset();
    return *this;
  }
  Boxed& operator=(T value) {
    value_ = std::make_unique<T>(std::move(value));
    return *this;
  }

  template <typename... Args>
  T& emplace(Args&&... args) {
    value_ = std::make_unique<T>(std::forward<Args>(args)...);
    return *value_;
  }
  void reset() { value_.reset(); }

  bool has_value() const { return value_ != nullptr; }
  explicit operator bool() const { return has_value(); }

  T& operator*() {
    TPW_ASSERT(has_value());
    return *value_;
  }
  const T& operator*() const {
    TPW_ASSERT(has_value());
    return *value_;
  }
  T* operator->() { return &**this; }
  const T* operator->() const { return &**this; }
  T& value() { return **this; }
  const T& value() const { return **this; }
  template <typename U>
  T value_or(U&& fallback) const {
    return has_value() ? *value_ : static_cast<T>(std::forward<U>(fallback));
  }

 private:
  std::unique_ptr<T> value_;
};

}  // namespace tpw
