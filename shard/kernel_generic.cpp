// The portable kernel variant: plain C++ with the compiler's baseline instruction set.
#include "shard/kernel.hpp"
#define LINEAGE_KERNEL_NAMESPACE kernel_generic
#include "shard/kernel_impl.hpp"
