#ifndef MARTLET_CSECP256K1_SHIM_H
#define MARTLET_CSECP256K1_SHIM_H
#include <secp256k1.h>
#include <secp256k1_extrakeys.h>
#include <secp256k1_schnorrsig.h>

/* libsecp256k1 exports its static context as a mutable global; reading it through a
   function keeps Swift's strict concurrency checking satisfied (the context is immutable). */
static inline const secp256k1_context *martlet_secp256k1_static_context(void) {
    return secp256k1_context_static;
}
#endif
