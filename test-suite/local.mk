# test-suite/: unit tests live with their modules' local.mk; fuzz replay and
# integration tests are included here.
include test-suite/fuzz/local.mk
include test-suite/integration/local.mk
include test-suite/unit/relay.mk
include test-suite/bench/local.mk
include test-suite/check/local.mk
