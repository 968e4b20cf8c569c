#include "server/server_log.h"

#include <spdlog/sinks/stdout_sinks.h>

namespace dengine::server {

void configure_logging(std::string_view level) {
  auto logger = spdlog::stderr_logger_mt("dengine-server");
  // etcd's levels; dpanic, panic and fatal are all as severe as spdlog goes.
  spdlog::level::level_enum threshold = spdlog::level::critical;
  if (level == "debug") threshold = spdlog::level::debug;
  if (level == "info") threshold = spdlog::level::info;
  if (level == "warn") threshold = spdlog::level::warn;
  if (level == "error") threshold = spdlog::level::err;
  logger->set_level(threshold);
  logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %L | dengine-server: %v");
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(std::move(logger));
}

}  // namespace dengine::server
