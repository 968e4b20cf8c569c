#pragma once

// dengine-ctl's command lines, as etcdctl spells them: positional arguments and flags, each flag
// written --flag or -flag, its value as --flag=value or the next argument; --help or -h anywhere.

#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dengine/status.h"

namespace dengine::ctl {

struct CommandLine {
  std::vector<std::string> positional;
  std::map<std::string, std::string, std::less<>> flags;  // by name, without dashes
  bool help = false;

  // The flag's value, or `fallback` when it was not given.
  [[nodiscard]] std::string flag_or(std::string_view name, std::string_view fallback) const;
};

// `known_flags`: the names this command takes, each with a value. An unknown flag, a flag
// without its value or one given twice is kInvalidArgument naming it.
Result<CommandLine> parse_command_line(std::span<const std::string> args,
                                       std::span<const std::string_view> known_flags);

// "wants N argument(s) (FILE), got M": for a command that received the wrong number.
Status expect_positional(const CommandLine& line, size_t count, std::string_view names);

}  // namespace dengine::ctl
