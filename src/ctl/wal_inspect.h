#pragma once

// `dengine-ctl wal inspect DIR`: lists a WAL's segments (records, entries, index and term
// ranges, whether sealed), the hard state and the log recovery would rebuild, and where any
// damage sits (file and offset). Reads only: never truncates or repairs.

#include <ostream>
#include <span>
#include <string>
#include <string_view>

#include "ctl/wal_scan.h"

namespace dengine::ctl {

void print_wal_scan(const WalScan& scan, std::ostream& out);

std::string_view wal_inspect_usage();
// The exit code: 0 when recovery would accept the log (a torn tail included: it is cut at the
// next start), 1 when it would refuse it (one line on `err` naming the file and offset) or the
// WAL cannot be read, 2 for a wrong command line.
int run_wal_inspect(std::span<const std::string> args, std::ostream& out, std::ostream& err);

}  // namespace dengine::ctl
