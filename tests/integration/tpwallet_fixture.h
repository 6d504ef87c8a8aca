// Test-only: a fixture that runs the real `tpwallet` binary (TPW_BINARY) as a child process on a
// fresh data directory and reads its exit code, output and JSON (cli_test, apikey_cli_test).
#pragma once

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <string>
#include <vector>

#include "child_process.h"
#include "storage/test_temp_dir.h"

namespace tpw::test_support {

class TpwalletFixture : public ::testing::Test {
 protected:
  std::string Path(const std::string& name) const { return temp_.path() + "/" + name; }

  // Runs tpwallet with `args`, stdout/stderr going to files. `data_dir_env`: the value of
  // TPWALLET_DATA_DIR for the child ("" = unset).
  ProcessResult Tpwallet(const std::vector<std::string>& args,
                         const std::string& data_dir_env = "") {
    std::vector<std::string> argv = {TPW_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunToFiles(argv, Path("stdout.txt"), Path("stderr.txt"), data_dir_env);
  }

  // Runs a command on the test's data directory.
  ProcessResult On(std::vector<std::string> args) {
    args.push_back("--data-dir");
    args.push_back(data_);
    return Tpwallet(args);
  }

  // Runs a command with --json on the data directory and parses its standard output.
  boost::json::value Json(std::vector<std::string> args, int expected_exit = 0) {
    args.push_back("--json");
    const ProcessResult run = On(args);
    EXPECT_EQ(run.exit_code, expected_exit) << run.out << run.err;
    boost::json::error_code ec;
    boost::json::value value = boost::json::parse(run.out, ec);
    EXPECT_FALSE(ec) << "not JSON: " << run.out;
    return value;
  }

  static std::string Str(const boost::json::value& v, const char* key) {
    const boost::json::string& s = v.at(key).as_string();
    return std::string(s.data(), s.size());
  }

  static void Expect(const ProcessResult& run, int expected) {
    EXPECT_EQ(run.exit_code, expected) << "stdout:\n" << run.out << "stderr:\n" << run.err;
  }

  storage::TempDir temp_;
  std::string data_ = temp_.path() + "/data";
};

}  // namespace tpw::test_support
