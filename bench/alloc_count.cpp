// libibs_alloc_count.so: counts a process's heap allocations. LD_PRELOADed
// into ib-stream-server by `ib-stream-bench --count-allocs`, which reads the
// counters out of the shared file named by IBS_ALLOC_COUNT_FILE (layout:
// alloc_count.hpp) at the edges of each measurement window.
//
// Every allocation entry point is interposed and forwarded to glibc's own
// __libc_* functions: no dlsym (which itself allocates, and would recurse),
// no locks, nothing but two relaxed atomic increments per allocation, so the
// counted process keeps its speed and every function stays async-signal-safe
// as far as the allocator it forwards to is. free is interposed only to
// forward: a pointer from one of these functions goes back to the same heap.
//
// Thread-safety: every function may be called from any thread, as malloc.
#define IBS_ALLOC_COUNT_SHIM
#include "alloc_count.hpp"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

extern "C" {
void* __libc_malloc(size_t size);
void* __libc_calloc(size_t n, size_t size);
void* __libc_realloc(void* p, size_t size);
void* __libc_memalign(size_t alignment, size_t size);
void* __libc_valloc(size_t size);
void* __libc_pvalloc(size_t size);
void __libc_free(void* p);
}

namespace {

using bench::AllocCountBlock;

// Counts go here until (and unless) the shared file is mapped.
AllocCountBlock g_static_block{};
AllocCountBlock* g_block = &g_static_block;

inline void count(size_t size) {
  AllocCountBlock* b = __atomic_load_n(&g_block, __ATOMIC_ACQUIRE);
  __atomic_fetch_add(&b->allocations, 1, __ATOMIC_RELAXED);
  __atomic_fetch_add(&b->bytes, size, __ATOMIC_RELAXED);
}

inline void* counted(void* p, size_t size) {
  if (p) count(size);
  return p;
}

void say(const char* what) {
  const char prefix[] = "libibs_alloc_count: ";
  // Best effort: a failed diagnostic has nowhere else to go.
  if (::write(2, prefix, sizeof prefix - 1) < 0 || ::write(2, what, strlen(what)) < 0) return;
}

// Before main (and before the libraries that a preloaded library precedes
// allocate much): moves the counters into the shared file.
__attribute__((constructor)) void map_counter_file() {
  const char* path = getenv("IBS_ALLOC_COUNT_FILE");
  if (!path || !*path) return;
  const int fd = ::open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    say("cannot open IBS_ALLOC_COUNT_FILE; counting into memory only\n");
    return;
  }
  void* mem = MAP_FAILED;
  if (::ftruncate(fd, bench::kAllocCountFileSize) == 0)
    mem = ::mmap(nullptr, bench::kAllocCountFileSize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  ::close(fd);
  if (mem == MAP_FAILED) {
    say("cannot map IBS_ALLOC_COUNT_FILE; counting into memory only\n");
    return;
  }
  auto* shared = static_cast<AllocCountBlock*>(mem);
  // Switch first, then fold in what was counted so far: nothing is lost
  // (the process is still single-threaded here, in practice).
  __atomic_store_n(&g_block, shared, __ATOMIC_RELEASE);
  __atomic_fetch_add(&shared->allocations,
                     __atomic_load_n(&g_static_block.allocations, __ATOMIC_RELAXED),
                     __ATOMIC_RELAXED);
  __atomic_fetch_add(&shared->bytes, __atomic_load_n(&g_static_block.bytes, __ATOMIC_RELAXED),
                     __ATOMIC_RELAXED);
  __atomic_store_n(&shared->version, bench::kAllocCountVersion, __ATOMIC_RELAXED);
  __atomic_store_n(&shared->pid, static_cast<int>(::getpid()), __ATOMIC_RELAXED);
  // Last: a reader that sees the magic sees a live block.
  __atomic_store_n(&shared->magic, bench::kAllocCountMagic, __ATOMIC_RELEASE);
}

} // namespace

// The signatures match glibc's declarations (noexcept is glibc's __THROW).
extern "C" {

void* malloc(size_t size) noexcept { return counted(__libc_malloc(size), size); }

void* calloc(size_t n, size_t size) noexcept {
  return counted(__libc_calloc(n, size), n * size); // on overflow it fails: nothing counted
}

void* realloc(void* p, size_t size) noexcept {
  // A new block, or one that must grow (in place or moved), is an
  // allocation; a shrink or a free (size 0) is not.
  const bool grows = !p || (size > 0 && size > malloc_usable_size(p));
  void* q = __libc_realloc(p, size);
  if (q && grows) count(size);
  return q;
}

void* reallocarray(void* p, size_t n, size_t size) noexcept {
  // glibc's own reallocarray calls its internal realloc, not this one.
  size_t total = 0;
  if (__builtin_mul_overflow(n, size, &total)) {
    errno = ENOMEM;
    return nullptr;
  }
  return realloc(p, total);
}

int posix_memalign(void** out, size_t alignment, size_t size) noexcept {
  if (alignment % sizeof(void*) != 0 || (alignment & (alignment - 1)) != 0 || alignment == 0)
    return EINVAL;
  void* p = __libc_memalign(alignment, size);
  if (!p) return ENOMEM;
  count(size);
  *out = p;
  return 0;
}

void* aligned_alloc(size_t alignment, size_t size) noexcept {
  return counted(__libc_memalign(alignment, size), size);
}

void* memalign(size_t alignment, size_t size) noexcept {
  return counted(__libc_memalign(alignment, size), size);
}

void* valloc(size_t size) noexcept { return counted(__libc_valloc(size), size); }

void* pvalloc(size_t size) noexcept { return counted(__libc_pvalloc(size), size); }

void free(void* p) noexcept { __libc_free(p); }

} // extern "C"
