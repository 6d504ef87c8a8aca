// The precompiled header of every test file (CMake `target_precompile_headers`, see
// tpw_test in the top CMakeLists.txt): GoogleTest, Boost.JSON and the standard headers the
// tests use most. Parsing GoogleTest alone took ~2 s of the ~4 s a test file cost to compile,
// once per file; now it is parsed once per build. Only third-party and standard headers belong
// here: a project header would rebuild every test whenever it changed.
#pragma once

#include <gtest/gtest.h>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>
