// Process memory policy. A training step allocates the same large arrays (activations, gradients) every
// step; glibc serves each from a fresh mmap and unmaps it on free, so every step pays first-touch page
// faults on megabytes of memory (up to a quarter of a small CNN's step). Raising glibc's mmap and trim
// thresholds keeps freed blocks in the heap for the next step, as PyTorch's caching allocator does;
// resident memory then stays at the run's high-water mark instead of being returned between steps.
#pragma once

namespace nntrain {

// Applies the policy unless NNTRAIN_KEEP_FREED_MEMORY=0; returns whether it is in effect (false off glibc).
bool keep_freed_memory();
bool keeps_freed_memory();

}  // namespace nntrain
