#include "payments/errors.h"

namespace tpw::payments {

std::string_view PaymentErrorName(PaymentError error) {
  switch (error) {
#define TPW_X(name, value, message) \
  case PaymentError::name:          \
    return #name;
    TPW_PAYMENT_ERRORS(TPW_X)
#undef TPW_X
  }
  return "unknown";
}

std::string_view PaymentErrorMessage(PaymentError error) {
  switch (error) {
#define TPW_X(name, value, message) \
  case PaymentError::name:          \
    return message;
    TPW_PAYMENT_ERRORS(TPW_X)
#undef TPW_X
  }
  return "unknown error";
}

std::optional<PaymentError> PaymentErrorFromValue(uint8_t value) {
  if (value >= kPaymentErrorCount) return std::nullopt;
  return static_cast<PaymentError>(value);
}

}  // namespace tpw::payments
