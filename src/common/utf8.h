// UTF-8 validation (RFC 3629: no overlong forms, no surrogates, at most U+10FFFF). Texts that
// end up in JSON or tables must be valid UTF-8; JSON bodies are validated by the parser, this is
// for bytes from elsewhere (CLI arguments, decoded journal records).
#pragma once

#include <string_view>

namespace tpw {

bool IsValidUtf8(std::string_view text);

}  // namespace tpw
