/* vetstage/vetstage.h - umbrella header for libvetstage. */
#ifndef VETSTAGE_H
#define VETSTAGE_H

#include "vetstage/common.h"
#include "vetstage/limits.h"
#include "vetstage/keys.h"
#include "vetstage/verify.h"
#include "vetstage/fetch.h"
#include "vetstage/cache.h"
#include "vetstage/stage.h"
#include "vetstage/render.h"
#include "vetstage/mirror.h"
#include "vetstage/source.h"

#endif
