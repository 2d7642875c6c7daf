// Clang thread-safety annotations (https://clang.llvm.org/docs/ThreadSafetyAnalysis.html),
// as in LevelDB's port/thread_annotations.h: with clang and -Wthread-safety (the `clang`
// preset, CMakePresets.json) the compiler checks that a field marked GUARDED_BY(mu) is only
// touched with mu held and that a function marked REQUIRES(mu) is only called so. Elsewhere
// (GCC) they expand to nothing. The lockable types are in storage/mutex.h.
#pragma once

#if defined(__clang__)
#define HTTPKV_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define HTTPKV_THREAD_ANNOTATION(x)
#endif

// A type that is a lock (a "capability" named x, e.g. "mutex").
#define CAPABILITY(x) HTTPKV_THREAD_ANNOTATION(capability(x))
// An RAII type that holds a capability for its lifetime.
#define SCOPED_CAPABILITY HTTPKV_THREAD_ANNOTATION(scoped_lockable)
// The field is read and written only with the capability held.
#define GUARDED_BY(x) HTTPKV_THREAD_ANNOTATION(guarded_by(x))
// What the pointer points to is read and written only with the capability held.
#define PT_GUARDED_BY(x) HTTPKV_THREAD_ANNOTATION(pt_guarded_by(x))
// Lock order: this capability is taken after / before the ones named.
#define ACQUIRED_AFTER(...) HTTPKV_THREAD_ANNOTATION(acquired_after(__VA_ARGS__))
#define ACQUIRED_BEFORE(...) HTTPKV_THREAD_ANNOTATION(acquired_before(__VA_ARGS__))
// The caller must hold the capabilities (exclusively).
#define REQUIRES(...) HTTPKV_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
// The caller must not hold them (the function takes them itself).
#define EXCLUDES(...) HTTPKV_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
// The function takes / releases the capabilities (this object's when none are named).
#define ACQUIRE(...) HTTPKV_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define RELEASE(...) HTTPKV_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define TRY_ACQUIRE(...) HTTPKV_THREAD_ANNOTATION(try_acquire_capability(__VA_ARGS__))
// Tells the analysis the capability is held here (checked at run time, if at all).
#define ASSERT_CAPABILITY(x) HTTPKV_THREAD_ANNOTATION(assert_capability(x))
// The function returns a reference to the capability.
#define RETURN_CAPABILITY(x) HTTPKV_THREAD_ANNOTATION(lock_returned(x))
// Opts a function out of the analysis; say why next to it.
#define NO_THREAD_SAFETY_ANALYSIS HTTPKV_THREAD_ANNOTATION(no_thread_safety_analysis)
