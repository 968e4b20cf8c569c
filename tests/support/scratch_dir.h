#pragma once

#include <string>

namespace dengine::test {

// A new empty directory under this test process's scratch directory, which is removed when the
// process exits. The scratch directory is on tmpfs (/dev/shm) when there is one: every RocksDB
// open and flush fsyncs several files, which on a real disk makes suites minutes long. Tests
// that need a power cut use the fault-injecting file layer, not the disk.
std::string fresh_test_dir();

}  // namespace dengine::test
