/* Included by every header of api/: the HTTP surfaces sit above the core and netem/, and the
 * build enforces it. netem/ and the core are compiled with NF_LAYER_NETEM and NF_LAYER_CORE, so
 * an api/ header reached from either stops the build here. */
#pragma once
#if defined(NF_LAYER_NETEM) || defined(NF_LAYER_CORE)
#error "netem/ and the core must not include api/: report an nf_err kind and let the surface render it"
#endif
