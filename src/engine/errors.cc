#include "engine/errors.h"

namespace tpw::engine {

std::string_view EngineErrorName(EngineError error) {
  switch (error) {
#define TPW_X(name, value, message) \
  case EngineError::name:           \
    return #name;
    TPW_ENGINE_ERRORS(TPW_X)
#undef TPW_X
  }
  return "unknown_engine_error";
}

std::string_view EngineErrorMessage(EngineError error) {
  switch (error) {
#define TPW_X(name, value, message) \
  case EngineError::name:           \
    return message;
    TPW_ENGINE_ERRORS(TPW_X)
#undef TPW_X
  }
  return "unknown engine error";
}

std::string EngineFailure::Message() const {
  std::string out(EngineErrorName(code));
  out += ": ";
  out += EngineErrorMessage(code);
  if (!detail.empty()) out += " (" + detail + ")";
  return out;
}

}  // namespace tpw::engine
