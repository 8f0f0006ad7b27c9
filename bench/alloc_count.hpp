// The counter block of libibs_alloc_count.so (alloc_count.cpp), the heap
// allocation counter LD_PRELOADed into the server by `ib-stream-bench
// --count-allocs`, and AllocCountFile, the harness's side of it.
//
// The block sits at offset 0 of the file named by IBS_ALLOC_COUNT_FILE (4096
// bytes, mapped MAP_SHARED by the counted process), so another process reads
// it at any moment with mmap or pread. All fields are native-endian; the
// 64-bit counters are naturally aligned and only ever read and written with
// atomic operations (relaxed: they are totals, not a protocol).
//
//   offset  size  field
//        0     4  magic        kAllocCountMagic once the block is live
//        4     4  version      kAllocCountVersion
//        8     4  pid          the counted process
//       12     4  reserved     0
//       16     8  allocations  successful malloc, calloc, realloc(NULL, n) and
//                              growing realloc, posix_memalign, aligned_alloc,
//                              memalign, valloc, pvalloc, reallocarray calls
//       24     8  bytes        bytes those calls asked for
//
// free (and a shrinking realloc) counts nothing. Counts made before the
// block was mapped (other libraries' constructors) are added in when it is.
//
// Thread-safety: AllocCountFile is used from one thread; reads of the block
// race only with relaxed atomic increments.
#pragma once

#include <cstdint>

namespace bench {

inline constexpr std::uint32_t kAllocCountMagic = 0x544e4341; // the bytes "ACNT" (x86-64)
inline constexpr std::uint32_t kAllocCountVersion = 1;
inline constexpr unsigned kAllocCountFileSize = 4096;

struct AllocCountBlock {
  std::uint32_t magic;
  std::uint32_t version;
  std::int32_t pid;
  std::uint32_t reserved;
  std::uint64_t allocations;
  std::uint64_t bytes;
};
static_assert(sizeof(AllocCountBlock) == 32, "the documented file layout");

} // namespace bench

#ifndef IBS_ALLOC_COUNT_SHIM // the harness side (the shim itself needs only the layout)
#include <string>

namespace bench {

/// A fresh zeroed counter file (a temp file, removed on destruction), mapped
/// read-only: pass path() as IBS_ALLOC_COUNT_FILE to the counted process.
class AllocCountFile {
public:
  AllocCountFile();
  ~AllocCountFile();
  AllocCountFile(const AllocCountFile&) = delete;
  AllocCountFile& operator=(const AllocCountFile&) = delete;

  const std::string& path() const { return path_; }
  /// The shim has mapped the file (magic and version are in place).
  bool live() const;
  /// Pid of the process that mapped it (0 before).
  int pid() const;
  std::uint64_t allocations() const;
  std::uint64_t bytes() const;

private:
  std::string path_;
  const AllocCountBlock* block_ = nullptr;
};

} // namespace bench
#endif
