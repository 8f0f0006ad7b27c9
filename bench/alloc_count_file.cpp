#include "alloc_count.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdlib>
#include <stdexcept>
#include <vector>

namespace bench {

AllocCountFile::AllocCountFile() {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/ib-stream-allocs-XXXXXX";
  std::vector<char> name(pattern.begin(), pattern.end());
  name.push_back('\0');
  const int fd = ::mkstemp(name.data());
  if (fd < 0) throw std::runtime_error("cannot create the allocation counter file " + pattern);
  path_ = name.data();
  // Zeroed: the shim adds to the counters rather than setting them.
  void* mem = MAP_FAILED;
  if (::ftruncate(fd, kAllocCountFileSize) == 0)
    mem = ::mmap(nullptr, kAllocCountFileSize, PROT_READ, MAP_SHARED, fd, 0);
  ::close(fd);
  if (mem == MAP_FAILED) {
    ::unlink(path_.c_str());
    throw std::runtime_error("cannot map the allocation counter file " + path_);
  }
  block_ = static_cast<const AllocCountBlock*>(mem);
}

AllocCountFile::~AllocCountFile() {
  ::munmap(const_cast<AllocCountBlock*>(block_), kAllocCountFileSize);
  ::unlink(path_.c_str());
}

bool AllocCountFile::live() const {
  return __atomic_load_n(&block_->magic, __ATOMIC_ACQUIRE) == kAllocCountMagic &&
         __atomic_load_n(&block_->version, __ATOMIC_RELAXED) == kAllocCountVersion;
}

int AllocCountFile::pid() const { return __atomic_load_n(&block_->pid, __ATOMIC_RELAXED); }

std::uint64_t AllocCountFile::allocations() const {
  return __atomic_load_n(&block_->allocations, __ATOMIC_RELAXED);
}

std::uint64_t AllocCountFile::bytes() const {
  return __atomic_load_n(&block_->bytes, __ATOMIC_RELAXED);
}

} // namespace bench
