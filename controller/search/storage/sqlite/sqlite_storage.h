// The SQLite storage: one file per search database, WAL journal, a busy timeout, every write in a
// BEGIN IMMEDIATE transaction, synchronous=FULL so that a committed evaluation survives a crash of
// the process or the machine. Several processes on one machine share it; a Storage object belongs
// to one thread and never crosses a fork() (each process opens its own). The search's rules are
// SqlStorage's; this driver supplies SQLite's statements, locks and journal.
#pragma once

#include <string>

#include "controller/search/storage/sql_storage.h"

namespace nos::search {

class SqliteStorage final : public storage::SqlStorage {
 public:
  // Throws StorageError naming the file: not a regular file (a FIFO, a device, a directory),
  // missing (Open), existing even empty (Create: then nothing is left behind on failure), not a
  // NOS search, another schema version, read-only (unless ReadOnly), corrupt. ReadOnly creates no
  // file (no -wal, no -shm; see read_only_uri in the .cpp).
  SqliteStorage(const std::string& path, OpenMode mode);
};

}  // namespace nos::search
