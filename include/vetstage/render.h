/*
 * vetstage/render.h - a staged layout into the two container build flows
 * (sidecar image, embedded multi-stage build) and a patched ECS task
 * definition.
 */
#ifndef VETSTAGE_RENDER_H
#define VETSTAGE_RENDER_H

#include "vetstage/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* (filled in by the render component) */

#ifdef __cplusplus
}
#endif
#endif
