#pragma once

// dengine-server's log: lines on stderr at etcd's --log-level (debug, info, warn, error, and
// dpanic, panic and fatal, which keep only the most severe). The engine itself never logs; the
// server reports what an operator watches for: where it serves, who leads, and how it stops.

#include <string_view>

#include <spdlog/spdlog.h>

namespace dengine::server {

// Sets up the process-wide logger; `level` was validated by the configuration parser.
void configure_logging(std::string_view level);

}  // namespace dengine::server
