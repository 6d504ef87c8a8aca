// Test-only: a real engine on a temp data directory and the real server on a random loopback
// port, started, stopped and restarted on the same directory (api_test, access_control_test).
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>

#include "access/access.h"
#include "api/server.h"
#include "engine/engine.h"
#include "storage/posix_storage.h"
#include "storage/test_temp_dir.h"

namespace tpw::api::testing {

// Makes an API key in `engine` as `tpwallet apikey create` does and returns its text.
inline std::string MakeApiKey(engine::Engine& engine, access::Scope scope, uint32_t rate = 0) {
  const access::KeyText text = access::GenerateKeyText();
  engine::AccessCommand create;
  create.kind = engine::AccessCommandKind::create_api_key;
  create.key.id = text.id;
  create.key.scope = scope;
  create.key.name = std::string(access::ScopeName(scope));
  create.key.secret_hash = access::SecretHash(text.secret);
  create.key.rate_per_second = rate;
  const engine::Reply reply = engine.ExecuteAccess(create);
  EXPECT_EQ(reply.access->error, engine::AccessError::ok);
  return access::FormatKeyText(text);
}

class ServerFixture : public ::testing::Test {
 protected:
  void TearDown() override { StopServer(); }

  // Opens (initializing the first time) the engine, lets `configure` adjust the options with
  // the open engine (hooks that need it), and starts serving on port 0 with 2 I/O threads.
  void StartServer(ServerOptions options,
                   const std::function<void(engine::Engine&, ServerOptions&)>& configure = {}) {
    auto storage = storage::PosixStorage::Open(dir_.path(), false);
    ASSERT_TRUE(storage.ok());
    storage_ = std::move(storage).value();
    if (!initialized_) {
      ASSERT_TRUE(engine::Engine::Initialize(*storage_).ok());
      initialized_ = true;
    }
    auto engine = engine::Engine::Open(*storage_, engine_options_);
    ASSERT_TRUE(engine.ok());
    engine_ = std::move(engine).value();
    options.port = 0;
    options.threads = 2;
    if (configure) configure(*engine_, options);
    auto server = Server::Start(*engine_, AssetTable::Default(), std::move(options));
    ASSERT_TRUE(server.ok()) << server.error();
    server_ = std::move(server).value();
    server_->Run();
  }

  // Graceful stop of the server, then the engine.
  void StopServer() {
    if (server_) {
      server_->Stop();
      server_->Wait();
    }
    if (engine_) engine_->Shutdown();
    server_.reset();
    engine_.reset();
    storage_.reset();
  }

  void RestartServer(ServerOptions options) {
    StopServer();
    StartServer(std::move(options));
  }

  uint16_t port() const { return server_->port(); }

  storage::TempDir dir_;
  bool initialized_ = false;
  engine::EngineOptions engine_options_;  // the next StartServer opens the engine with these
  std::unique_ptr<storage::PosixStorage> storage_;
  std::unique_ptr<engine::Engine> engine_;
  std::unique_ptr<Server> server_;
};

}  // namespace tpw::api::testing
