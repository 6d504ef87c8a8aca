// Making an API key directly in an open engine (no server in between): what the first
// `tpwallet serve` on a directory does for its admin key, and `tpwallet bench payments` for its
// in-process server.
#pragma once

#include <cstdint>
#include <string>

#include "access/access.h"
#include "cli/session.h"
#include "engine/engine.h"

namespace tpw::cli {

// Stores a new key of `scope` named `name` (rate 0 = the server's default) and returns its
// text, the only copy of the secret: print it once. Defined in serve.cc.
CommandResult<std::string> CreateApiKeyIn(engine::Engine& engine, access::Scope scope,
                                          std::string name, uint32_t rate_per_second);

}  // namespace tpw::cli
