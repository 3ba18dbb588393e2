#include "core/memory.h"

#include <malloc.h>
#include <stddef.h>
#include <stdio.h>

#if defined(__SANITIZE_ADDRESS__)
/* From the sanitizer runtime (sanitizer/allocator_interface.h, not installed with gcc here). */
size_t __sanitizer_get_current_allocated_bytes(void);
#endif

uint64_t nf_heap_bytes(void) {
#if defined(__SANITIZE_ADDRESS__)
        return (uint64_t)__sanitizer_get_current_allocated_bytes();
#else
        struct mallinfo2 m = mallinfo2();
        return (uint64_t)(m.uordblks + m.hblkhd);
#endif
}

uint64_t nf_rss_kb(void) {
        FILE *f = fopen("/proc/self/statm", "r");
        unsigned long long size, rss = 0;
        if (f) {
                if (fscanf(f, "%llu %llu", &size, &rss) != 2)
                        rss = 0;
                fclose(f);
        }
        return (uint64_t)rss * 4; /* pages of 4 KiB on x86_64 */
}
