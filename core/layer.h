/* Included by every header of the core: the core sits above netem/ (the kernel side) and below
 * api/ (the surfaces), and the build enforces it. netem/ is compiled with NF_LAYER_NETEM, so a
 * core header reached from there stops the build here. */
#pragma once
#ifdef NF_LAYER_NETEM
#error "netem/ (the kernel side) must not include the core: pass what it needs as arguments"
#endif
