// The precompiled header of the API libraries (tpw_api_codec, tpw_api; see CMakeLists.txt):
// the Boost.Asio, Beast and JSON headers every file here parses through service.h and http.h,
// ~2 s of each file's ~7 s under g++ -O2, parsed once per build instead. Only third-party and
// standard headers belong here: a project header would rebuild the whole library whenever it
// changed. Each file still includes what it uses (the clang checks compile files without it).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>
