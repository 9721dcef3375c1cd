//! The benches' allocator: jemalloc, the `intent` program's (`src/main.rs`), so a bench
//! measures the allocations the program makes the way the program makes them.

#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;
