#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "dengine/cluster_member.h"

namespace dengine {

void log_member_to_stderr(std::string_view log_level, std::string_view program) {
  auto logger = spdlog::stderr_logger_mt(std::string(program));
  // etcd's levels; dpanic, panic and fatal are all as severe as spdlog goes.
  spdlog::level::level_enum threshold = spdlog::level::critical;
  if (log_level == "debug") threshold = spdlog::level::debug;
  if (log_level == "info") threshold = spdlog::level::info;
  if (log_level == "warn") threshold = spdlog::level::warn;
  if (log_level == "error") threshold = spdlog::level::err;
  logger->set_level(threshold);
  logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %L | " + std::string(program) + ": %v");
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(std::move(logger));
}

}  // namespace dengine
