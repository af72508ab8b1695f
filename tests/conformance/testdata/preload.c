/* A library for LD_PRELOAD: the probe looks for this symbol to prove that a
 * user's LD_PRELOAD reaches the bundled program and is honoured. */
int portable_test_preloaded = 1;
