/* tests/unit/unit.h - helpers every unit suite may use (tests/unit/main.c). */
#ifndef VS_TESTS_UNIT_H
#define VS_TESTS_UNIT_H

/* The fixtures folder (tests/fixtures/mkfixtures.sh), absolute: $VS_FIXTURES,
 * else $BUILD/fixtures (tests/run.sh exports BUILD), else build/fixtures.
 * Fails the test when it is missing. */
const char *vs_test_fixdir(void);

#endif
